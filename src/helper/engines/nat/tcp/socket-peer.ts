/**
 * A flow's peer that is a real TCP socket to the destination (or to a local service). Dialled
 * when the remote's SYN arrives; `connectTimeoutMs` bounds the dial.
 */
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { hostPort } from "../format.js";
import type { PeerRelease } from "./connection.js";
import type { DialTarget, FlowPeer, FlowPeerEvents, PeerOpener } from "./flow-peer.js";
import { resetSocket } from "../../socket-reset.js";

export function socketPeerOpener(target: DialTarget, connectTimeoutMs: number): PeerOpener {
  return { dial: target, open: (events) => new SocketPeer(target, connectTimeoutMs, events) };
}

class SocketPeer implements FlowPeer {
  private readonly socket: Socket;
  private dialing = true;
  private readonly dialTimer: NodeJS.Timeout;

  constructor(target: DialTarget, connectTimeoutMs: number, events: FlowPeerEvents) {
    const startedAt = performance.now();
    const socket = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    this.socket = socket;
    this.dialTimer = setTimeout(() => this.dialFailed(events, "ETIMEDOUT"), connectTimeoutMs);
    socket.once("connect", () => {
      if (!this.endDial()) return;
      events.ready(performance.now() - startedAt);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (this.dialing) this.dialFailed(events, error.code ?? "EIO");
      else events.error(error.code ?? error.message);
    });
    socket.on("data", (chunk: Buffer) => events.data(chunk));
    socket.on("end", () => events.end());
    socket.on("drain", () => events.drain());
    socket.on("close", () => {
      if (!this.dialing) events.gone();
    });
  }

  write(data: Buffer): void {
    this.socket.write(data);
  }

  end(): void {
    this.socket.end(); // data already written still flows
  }

  get buffered(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (this.socket.isPaused()) this.socket.resume();
  }

  /** Costs a getsockname(): asked for after the SYN-ACK, which need not wait for it. */
  localName(): string {
    return hostPort(this.socket.localAddress ?? "?", this.socket.localPort ?? 0);
  }

  release(how: PeerRelease): void {
    this.endDial();
    const socket = this.socket;
    if (socket.destroyed) return;
    if (how === "graceful")
      socket.destroySoon(); // after the remote's last bytes are written
    else if (how === "reset") resetSocket(socket);
    else socket.destroy();
  }

  private dialFailed(events: FlowPeerEvents, code: string): void {
    if (!this.endDial()) return;
    this.socket.destroy();
    events.failed(code);
  }

  /** Ends the dial phase; false when it had already ended. */
  private endDial(): boolean {
    if (!this.dialing) return false;
    this.dialing = false;
    clearTimeout(this.dialTimer);
    return true;
  }
}
