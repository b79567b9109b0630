/**
 * The DNS stub's TCP port 53 as a flow peer in this process: the bytes of the remote's flow go
 * straight to a DNS stream session (dns/stream-session.ts), with no loopback socket in between
 * (Tailscale's HandleTCPConn). Backpressure as a socket's: bytes the session does not take yet
 * (it pauses at its pipelining bound) wait here and count as buffered, so the window advertised
 * to the remote shrinks; answers wait here while the remote's window is full. Every event to the flow is posted to a microtask: the session may
 * act during a call from the connection, which must not be re-entered.
 */
import type { DnsStream } from "../dns/stream-session.js";
import type { PeerRelease } from "./tcp/connection.js";
import type { FlowPeer, FlowPeerEvents, PeerOpener } from "./tcp/flow-peer.js";

/** One DNS-over-TCP stream, as the NAT engine drives it. */
export interface DnsStreamHandle {
  readonly busy: boolean;
  readonly pendingBytes: number;
  data(chunk: Buffer): void;
  end(): void;
  drained(): void;
  close(): void;
}

/** Serves DNS over TCP on `stream`; the DNS engine's side of the stub. */
export type DnsStreamServer = (stream: DnsStream) => DnsStreamHandle;

export function dnsStreamOpener(serve: DnsStreamServer, idleTimeoutMs: number): PeerOpener {
  return { dial: undefined, open: (events) => new DnsStreamPeer(serve, events, idleTimeoutMs) };
}

class DnsStreamPeer implements FlowPeer {
  private readonly session: DnsStreamHandle;
  /** The remote's window is full: answers wait in `held`. */
  private flowPaused = false;
  private held: Buffer[] = [];
  private endAfterHeld = false;
  /** The session stopped taking queries (pipelining bound, or its output backed up). */
  private sessionPaused = false;
  /** What the remote sent meanwhile: kept here, as a paused socket leaves it in the kernel. */
  private backlog: Buffer[] = [];
  private backlogBytes = 0;
  private endAfterBacklog = false;
  private released = false;
  private readonly idle: NodeJS.Timeout;

  constructor(
    serve: DnsStreamServer,
    private readonly events: FlowPeerEvents,
    idleTimeoutMs: number,
  ) {
    this.session = serve({
      write: (framed) => this.answer(framed),
      end: () => this.post(() => this.endNowOrAfterHeld()),
      destroy: () => this.post(() => this.events.gone()),
      pause: () => (this.sessionPaused = true),
      resume: () => this.sessionResumed(),
    });
    this.idle = setTimeout(() => this.idleFor(), idleTimeoutMs);
    this.idle.unref();
    this.post(() => this.events.ready(0));
  }

  write(data: Buffer): void {
    this.idle.refresh();
    if (this.sessionPaused || this.backlog.length > 0) {
      this.backlog.push(data);
      this.backlogBytes += data.length;
    } else {
      this.session.data(data);
    }
  }

  end(): void {
    if (this.backlog.length > 0) this.endAfterBacklog = true;
    else this.session.end();
  }

  get buffered(): number {
    return this.session.pendingBytes + this.backlogBytes;
  }

  pause(): void {
    this.flowPaused = true;
  }

  resume(): void {
    if (!this.flowPaused) return;
    this.flowPaused = false;
    this.post(() => this.flushHeld());
  }

  localName(): null {
    return null;
  }

  release(_how: PeerRelease): void {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.idle);
    this.session.close();
    this.held = [];
  }

  /** An answer from the session; false when it must wait for the remote's window. */
  private answer(framed: Buffer): boolean {
    this.idle.refresh();
    if (this.flowPaused || this.held.length > 0) {
      this.held.push(framed);
      return false;
    }
    this.post(() => this.events.data(framed));
    return true;
  }

  private flushHeld(): void {
    while (this.held.length > 0 && !this.flowPaused && !this.released) {
      this.events.data(this.held.shift()!);
    }
    if (this.held.length > 0 || this.released) return;
    if (this.endAfterHeld) this.events.end();
    else this.session.drained();
  }

  private endNowOrAfterHeld(): void {
    if (this.held.length > 0) this.endAfterHeld = true;
    else this.events.end();
  }

  private sessionResumed(): void {
    if (!this.sessionPaused) return;
    this.sessionPaused = false;
    this.post(() => this.feedBacklog());
  }

  /** The session takes queries again: hand it what waited, then reopen the remote's window. */
  private feedBacklog(): void {
    while (this.backlog.length > 0 && !this.sessionPaused) {
      const chunk = this.backlog.shift()!;
      this.backlogBytes -= chunk.length;
      this.session.data(chunk);
    }
    if (this.backlog.length === 0 && this.endAfterBacklog) {
      this.endAfterBacklog = false;
      this.session.end();
    }
    this.events.drain();
  }

  /** Closes a stream silent for the idle time with nothing in flight, as the TCP server does. */
  private idleFor(): void {
    if (this.session.busy) this.idle.refresh();
    else this.events.gone();
  }

  private post(event: () => void): void {
    queueMicrotask(() => {
      if (!this.released) event();
    });
  }
}
