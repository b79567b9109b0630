/**
 * One link stream at the exit: a real TCP socket to the destination joined to the stream's two
 * halves (link/stream-credit.ts), and its row in the NAT table. Bytes from the entrance are
 * granted again only once the socket has taken them (the write callback), so a destination that
 * does not read stops the entrance at its credit and memory here stays bounded; the socket is
 * paused while the entrance's credit or the link's room is used up.
 *
 * A name's addresses are dialled in turn, as curl does, until one accepts: each attempt gets an
 * even share of what is left of the connect timeout, so the whole dial stays within it. An open
 * stream idle for the TCP flows' idle limit (shorter once either side has ended) is reset, as an
 * idle TCP flow is (tcp/timers.ts).
 */
import { connect, type Socket } from "node:net";
import type { FlowRow } from "../../../shared/flow-row.js";
import { StreamStatus } from "../../../shared/link-streams.js";
import type { Link } from "../link/link.js";
import { StreamReceiver, StreamRoom, StreamSender } from "../link/stream-credit.js";
import type { FlowTable } from "./flow-table.js";
import { hostPort } from "./format.js";
import { dialStatus } from "./refusal.js";
import { resetSocket } from "../socket-reset.js";

/** When an open stream with no data either way is reset: the TCP flows' limits (tcp/limits.ts). */
export interface StreamIdleLimits {
  idleTimeoutMs: number;
  /** Once either side has ended (sent STREAM_END, or the destination its FIN). */
  halfClosedIdleTimeoutMs: number;
}

export interface ExitStreamEvents {
  /** The stream is over (its row closed); the forwarder frees its slot. */
  gone(stream: ExitStream): void;
  /** The dial ended, either way: a dial slot is free. */
  dialEnded(): void;
  /** For the forwarder's counters: a name's next address dialled, an idle stream reset. */
  counted(what: "dialRetries" | "idleTimeouts"): void;
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
  /** When the dial as a whole gives up (ms, the table's clock). */
  private dialDeadline = 0;
  /** Asked again before each fallback address: the egress policy as it is now. */
  private stillAllowed: (address: string) => boolean = () => true;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleDueAt = 0;
  /** Connect attempts made (more than one when a name's first addresses failed). */
  private attempts = 0;
  private lastActivity = 0;
  /** The address being dialled, then connected to; undefined while the name resolves. */
  private host: string | undefined;

  constructor(
    readonly id: number,
    readonly row: FlowRow,
    private readonly link: Link,
    room: StreamRoom,
    private readonly table: FlowTable,
    /** The receive window, reserved from the engine's budget by the forwarder. */
    readonly windowBytes: number,
    private readonly idle: StreamIdleLimits,
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

  /** The address this stream's socket dials or is connected to; undefined before its first dial. */
  get dialedHost(): string | undefined {
    return this.host;
  }

  /** Bytes held here: written to the socket and not yet taken by it, and waiting for the entrance's credit. */
  get bufferedBytes(): number {
    return (this.socket?.writableLength ?? 0) + this.sender.pendingBytes;
  }

  /**
   * Connects to the first of `addresses` (resolved and allowed, in order) that accepts, within
   * `connectTimeoutMs` for them all; answers STREAM_OPENED either way, with the last failure.
   */
  dial(
    addresses: readonly string[],
    port: number,
    connectTimeoutMs: number,
    stillAllowed: (address: string) => boolean = () => true,
  ): void {
    if (this.phase !== "resolving" || addresses.length === 0) return;
    this.stillAllowed = stillAllowed;
    this.phase = "dialing";
    this.dialDeadline = this.table.now() + connectTimeoutMs;
    this.attempt(addresses, 0, port);
  }

  private attempt(addresses: readonly string[], index: number, port: number): void {
    const host = addresses[index]!;
    this.host = host;
    this.attempts++;
    this.row.destination = hostPort(host, port);
    this.row.family = host.includes(":") ? 6 : 4;
    this.setState("DIALING");
    const socket = connect({ host, port, allowHalfOpen: true, noDelay: true });
    this.socket = socket;
    const failed = (code: string): void => {
      if (this.socket !== socket || this.phase !== "dialing") return;
      clearTimeout(this.dialTimer);
      socket.destroy();
      // The policy may have changed since the dial began (access to this computer switched off).
      let next = index + 1;
      while (next < addresses.length && !this.stillAllowed(addresses[next]!)) next++;
      if (next < addresses.length && this.dialDeadline > this.table.now()) {
        this.events.counted("dialRetries");
        this.attempt(addresses, next, port);
      } else this.dialFailed(code);
    };
    const share = Math.max(0, this.dialDeadline - this.table.now()) / (addresses.length - index);
    this.dialTimer = setTimeout(() => failed("ETIMEDOUT"), Math.ceil(share));
    socket.once("connect", () => {
      if (this.socket === socket) this.connected(host);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (this.phase === "dialing") failed(error.code ?? "EIO");
      else if (this.socket === socket)
        this.abort(StreamStatus.GeneralFailure, `local socket error: ${error.code ?? error.message}`);
    });
    socket.on("data", (chunk: Buffer) => this.socketData(chunk));
    socket.on("end", () => {
      this.socketEnded = true;
      this.touch();
      this.sender.end();
    });
    socket.on("close", () => {
      // After both ends, the socket closes while our last bytes may still wait for credit.
      if (this.socket === socket && this.phase === "open" && !(this.socketEnded && this.entranceEnded)) {
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

  /** One STREAM_DATA: `parts` (`length` bytes in all), more than one when it was split across reads. */
  receiveData(parts: readonly Buffer[], length: number): void {
    const socket = this.socket;
    if (this.phase !== "open" || socket === undefined || this.entranceEnded) {
      this.abort(StreamStatus.ProtocolError, "data out of order from the remote");
      return;
    }
    if (!this.receiver.accept(length)) {
      this.abort(StreamStatus.ProtocolError, "data past the credit granted");
      return;
    }
    this.count("up", length);
    // Copied (and a split frame joined by the same copy): the socket may keep it until the
    // destination reads, and a view would pin the link's whole received chunk, not just these bytes.
    socket.write(Buffer.concat(parts, length), () => {
      if (this.phase === "open" && !this.receiver.consumed(length)) {
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
    this.touch();
    this.socket?.end();
    this.setState(this.sender.ended ? "LAST-ACK" : "CLOSE-WAIT");
    this.finishIfDone();
  }

  /** The entrance reset the stream: the destination sees a reset connection. */
  receiveReset(): void {
    if (this.socket) resetSocket(this.socket);
    this.finish("reset by the remote");
  }

  /** Resets the stream from this side: RESET to the entrance, an RST to the destination. */
  abort(status: StreamStatus, reason: string): void {
    if (this.phase === "closed") return;
    this.link.sendStreamFrame({ type: "reset", id: this.id, status });
    if (this.socket) resetSocket(this.socket);
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
    this.touch();
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
    const tried = this.attempts > 1 ? ` (${this.attempts} addresses tried)` : "";
    this.refuse(dialStatus(code), `connect failed: ${code}${tried}`);
  }

  /** Data or an end either way: the idle clock starts again (checked by one timer, re-armed lazily). */
  private touch(): void {
    const now = (this.lastActivity = this.table.now());
    if (this.phase !== "open") return;
    const limit = this.idleLimit();
    // Re-armed only when the limit shrank (a side ended); otherwise the timer looks again when due.
    if (this.idleTimer !== undefined && this.idleDueAt <= now + limit) return;
    clearTimeout(this.idleTimer);
    this.armIdle(limit);
  }

  private idleLimit(): number {
    return this.entranceEnded || this.socketEnded
      ? this.idle.halfClosedIdleTimeoutMs
      : this.idle.idleTimeoutMs;
  }

  private armIdle(delayMs: number): void {
    this.idleDueAt = this.table.now() + delayMs;
    this.idleTimer = setTimeout(() => this.checkIdle(), Math.max(1, delayMs));
    this.idleTimer.unref();
  }

  private checkIdle(): void {
    this.idleTimer = undefined;
    if (this.phase !== "open") return;
    const idleFor = this.table.now() - this.lastActivity;
    const limit = this.idleLimit();
    if (idleFor >= limit) {
      this.events.counted("idleTimeouts");
      this.abort(StreamStatus.TimedOut, "idle timeout");
    } else this.armIdle(limit - idleFor);
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
    this.touch();
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
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.phase = "closed";
    this.sender.close();
    this.table.close(this.row, reason);
    this.events.gone(this);
  }
}
