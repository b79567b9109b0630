/**
 * One link stream at the exit: a real TCP socket to the destination joined to the stream's two
 * halves (link/stream-credit.ts), and its row in the NAT table. Bytes from the entrance are
 * granted again only once the socket has taken them (the write callback), so a destination that
 * does not read stops the entrance at its credit and memory here stays bounded; the socket is
 * paused while the entrance's credit or the link's room is used up.
 */
import { connect, type Socket } from "node:net";
import type { FlowRow } from "../../../shared/flow-row.js";
import { StreamStatus } from "../../../shared/link-streams.js";
import type { Link } from "../link/link.js";
import { StreamReceiver, StreamRoom, StreamSender } from "../link/stream-credit.js";
import type { FlowTable } from "./flow-table.js";
import { hostPort } from "./format.js";
import { dialStatus } from "./refusal.js";

export interface ExitStreamEvents {
  /** The stream is over (its row closed); the forwarder frees its slot. */
  gone(stream: ExitStream): void;
  /** The dial ended, either way: a dial slot is free. */
  dialEnded(): void;
}

type Phase = "resolving" | "dialing" | "open" | "closed";

export class ExitStream {
  private phase: Phase = "resolving";
  private socket: Socket | undefined;
  private dialTimer: NodeJS.Timeout | undefined;
  private readonly sender: StreamSender;
  private readonly receiver: StreamReceiver;
  private entranceEnded = false;
  private socketEnded = false;
  /** A dial slot is held from the open through the name's lookup to the connect's end. */
  private holdsDialSlot = true;

  constructor(
    readonly id: number,
    readonly row: FlowRow,
    private readonly link: Link,
    room: StreamRoom,
    private readonly table: FlowTable,
    /** The receive window, reserved from the engine's budget by the forwarder. */
    readonly windowBytes: number,
    private readonly events: ExitStreamEvents,
  ) {
    this.receiver = new StreamReceiver(id, link, windowBytes);
    this.sender = new StreamSender(id, link, room, {
      drained: () => this.socket?.resume(),
      ended: () => this.finishIfDone(),
      failed: () => this.abort(StreamStatus.GeneralFailure, "the link's queue is full"),
    });
  }

  get closed(): boolean {
    return this.phase === "closed";
  }

  /** Bytes held here: written to the socket and not yet taken by it, and waiting for the entrance's credit. */
  get bufferedBytes(): number {
    return (this.socket?.writableLength ?? 0) + this.sender.pendingBytes;
  }

  /** Connects to the resolved, allowed destination; answers STREAM_OPENED either way. */
  dial(host: string, port: number, connectTimeoutMs: number): void {
    if (this.phase !== "resolving") return;
    this.phase = "dialing";
    this.row.destination = hostPort(host, port);
    this.setState("DIALING");
    const socket = connect({ host, port, allowHalfOpen: true, noDelay: true });
    this.socket = socket;
    this.dialTimer = setTimeout(() => this.dialFailed("ETIMEDOUT"), connectTimeoutMs);
    socket.once("connect", () => this.connected(host));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (this.phase === "dialing") this.dialFailed(error.code ?? "EIO");
      else this.abort(StreamStatus.GeneralFailure, `local socket error: ${error.code ?? error.message}`);
    });
    socket.on("data", (chunk: Buffer) => this.socketData(chunk));
    socket.on("end", () => {
      this.socketEnded = true;
      this.sender.end();
    });
    socket.on("close", () => {
      // After both ends, the socket closes while our last bytes may still wait for credit.
      if (this.phase === "open" && !(this.socketEnded && this.entranceEnded)) {
        this.abort(StreamStatus.GeneralFailure, "the local socket closed");
      }
    });
  }

  /** Refuses the open before any dial (policy, name, limits): STREAM_OPENED with `status`. */
  refuse(status: StreamStatus, reason: string): void {
    if (this.phase === "closed") return;
    this.link.sendStreamFrame({ type: "opened", id: this.id, status, address: null });
    this.finish(reason);
  }

  // ---- frames from the entrance for this id ----

  receiveData(bytes: Buffer): void {
    const socket = this.socket;
    if (this.phase !== "open" || socket === undefined || this.entranceEnded) {
      this.abort(StreamStatus.ProtocolError, "data out of order from the remote");
      return;
    }
    if (!this.receiver.accept(bytes.length)) {
      this.abort(StreamStatus.ProtocolError, "data past the credit granted");
      return;
    }
    this.count("up", bytes.length);
    const size = bytes.length;
    // Copied: the socket may keep it until the destination reads, and a view would pin the
    // link's whole received chunk, not just these bytes.
    socket.write(Buffer.from(bytes), () => {
      if (this.phase === "open" && !this.receiver.consumed(size)) {
        this.abort(StreamStatus.GeneralFailure, "the link's queue is full");
      }
    });
  }

  receiveCredit(bytes: number): void {
    if (this.phase !== "open") {
      this.abort(StreamStatus.ProtocolError, "credit before the stream opened");
      return;
    }
    this.sender.grant(bytes);
  }

  receiveEnd(): void {
    if (this.phase !== "open" || this.entranceEnded) {
      this.abort(StreamStatus.ProtocolError, "END out of order from the remote");
      return;
    }
    this.entranceEnded = true;
    this.socket?.end();
    this.setState(this.sender.ended ? "LAST-ACK" : "CLOSE-WAIT");
    this.finishIfDone();
  }

  /** The entrance reset the stream: the destination sees a reset connection. */
  receiveReset(): void {
    this.socket?.resetAndDestroy();
    this.finish("reset by the remote");
  }

  /** Resets the stream from this side: RESET to the entrance, an RST to the destination. */
  abort(status: StreamStatus, reason: string): void {
    if (this.phase === "closed") return;
    this.link.sendStreamFrame({ type: "reset", id: this.id, status });
    if (this.socket && !this.socket.destroyed) this.socket.resetAndDestroy();
    this.finish(reason);
  }

  // ---- inside ----

  private connected(host: string): void {
    if (this.phase !== "dialing") return;
    this.endDial();
    this.phase = "open";
    const socket = this.socket!;
    this.row.localSocket = hostPort(socket.localAddress ?? "?", socket.localPort ?? 0);
    this.setState("ESTABLISHED");
    const answered = this.link.sendStreamFrame({
      type: "opened",
      id: this.id,
      status: StreamStatus.Ok,
      address: host,
    });
    if (!answered || !this.receiver.openWindow())
      this.abort(StreamStatus.GeneralFailure, "the link's queue is full");
  }

  private dialFailed(code: string): void {
    if (this.phase !== "dialing") return;
    this.endDial();
    this.socket?.destroy();
    this.refuse(dialStatus(code), `connect failed: ${code}`);
  }

  private endDial(): void {
    if (!this.holdsDialSlot) return;
    this.holdsDialSlot = false;
    clearTimeout(this.dialTimer);
    this.dialTimer = undefined;
    this.events.dialEnded();
  }

  private socketData(chunk: Buffer): void {
    if (this.phase !== "open") return;
    this.count("down", chunk.length);
    if (!this.sender.write(chunk)) this.socket?.pause();
  }

  private count(direction: "up" | "down", bytes: number): void {
    const row = this.row;
    if (direction === "up") {
      row.upBytes += bytes;
      row.upPackets++;
    } else {
      row.downBytes += bytes;
      row.downPackets++;
    }
    row.lastActivityAt = this.table.now();
    this.table.markDirty(row);
  }

  private setState(state: string): void {
    this.row.state = state;
    this.table.markDirty(this.row);
  }

  private finishIfDone(): void {
    if (this.phase !== "open") return;
    if (!this.sender.ended) return;
    if (!this.entranceEnded) {
      this.setState("FIN-WAIT-2");
      return;
    }
    // Both sides ended: the socket closes once our last bytes are written.
    this.socket?.destroySoon();
    this.finish("closed");
  }

  private finish(reason: string): void {
    if (this.phase === "closed") return;
    this.endDial();
    this.phase = "closed";
    this.sender.close();
    this.table.close(this.row, reason);
    this.events.gone(this);
  }
}
