/**
 * DNS over a byte stream (RFC 7766), whatever carries the stream: a loopback socket
 * (tcp-server.ts) or a TCP flow the NAT engine terminates (nat/dns-stream-peer.ts). Each message has
 * a 2-byte length prefix; a stream carries any number of queries, pipelined, answered as each is
 * ready (so possibly out of order, as RFC 7766 §6.2.1.1 allows). Bounded: queries in flight
 * (reading pauses beyond), query size, and output the far side does not take (reading pauses
 * until `drained`). No I/O here: the transport reads, writes and times out.
 */
import type { DnsTransport } from "../../../shared/dns-row.js";

export interface DnsQueryHandler {
  handleQuery(query: Buffer, transport: DnsTransport): Promise<Buffer | null>;
}

/** The transport under a session. */
export interface DnsStream {
  /** A framed answer; the stream owns it. False: backed up, `drained` follows. */
  write(framed: Buffer): boolean;
  /** Both sides are done: end the stream gracefully. */
  end(): void;
  /** Nothing sensible can follow (an impossible length, an unanswerable query): close at once. */
  destroy(): void;
  /** Stop / resume delivering `data`. */
  pause(): void;
  resume(): void;
}

export interface DnsStreamLimits {
  /** A query larger than this closes its stream (real queries are a few hundred bytes). */
  maxQueryBytes: number;
  maxPipelined: number;
}

export const DNS_STREAM_LIMITS: DnsStreamLimits = { maxQueryBytes: 4_096, maxPipelined: 32 };

/** A stream with nothing in flight and no traffic for this long may be closed by its transport. */
export const DNS_STREAM_IDLE_MS = 10_000;

export class DnsStreamSession {
  private pending: Buffer = Buffer.alloc(0);
  private inFlight = 0;
  private writeBlocked = false;
  private peerEnded = false;
  private closed = false;

  constructor(
    private readonly stream: DnsStream,
    private readonly engine: DnsQueryHandler,
    private readonly limits: DnsStreamLimits,
  ) {}

  /** Queries being answered: an idle stream with none may be closed. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** Bytes received and not yet dispatched (an incomplete query, or queries over the bound). */
  get pendingBytes(): number {
    return this.pending.length;
  }

  /** Bytes from the far side; the session keeps what it needs (copies, not views of `chunk`). */
  data(chunk: Buffer): void {
    if (this.closed) return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.processPending();
  }

  /** The far side sent everything: end once every answer is written. */
  end(): void {
    this.peerEnded = true;
    this.finishIfDone();
  }

  drained(): void {
    this.writeBlocked = false;
    this.processPending();
    this.updateFlow();
  }

  /** The stream is gone: answers still coming are dropped. */
  close(): void {
    this.closed = true;
  }

  private updateFlow(): void {
    if (this.closed) return;
    if (this.writeBlocked || this.inFlight >= this.limits.maxPipelined) this.stream.pause();
    else this.stream.resume();
  }

  private finishIfDone(): void {
    if (this.peerEnded && this.inFlight === 0 && !this.closed) this.stream.end();
  }

  private destroy(): void {
    this.closed = true;
    this.stream.destroy();
  }

  /** Dispatches every complete query, up to the pipelining bound; the rest waits in `pending`. */
  private processPending(): void {
    while (this.pending.length >= 2 && this.inFlight < this.limits.maxPipelined && !this.closed) {
      const length = this.pending.readUInt16BE(0);
      if (length === 0 || length > this.limits.maxQueryBytes) {
        // Nothing sensible can follow an impossible length on a stream: close it.
        this.destroy();
        return;
      }
      if (this.pending.length < 2 + length) break;
      // A copy: the query outlives this chunk, and the engine may keep it.
      const query = Buffer.from(this.pending.subarray(2, 2 + length));
      this.pending = this.pending.subarray(2 + length);
      this.dispatch(query);
    }
    // Keep only the bytes still needed, not a view pinning a large chunk.
    if (this.pending.length > 0) this.pending = Buffer.from(this.pending);
  }

  private dispatch(query: Buffer): void {
    this.inFlight++;
    this.updateFlow();
    void this.engine.handleQuery(query, "tcp").then(
      (answer) => this.settle(answer),
      () => this.settle(null),
    );
  }

  private settle(answer: Buffer | null): void {
    this.inFlight--;
    if (this.closed) return;
    if (answer === null || answer.length > 0xffff) {
      // The engine drops what it cannot answer; on a stream the only way to say so is to close.
      this.destroy();
      return;
    }
    const framed = Buffer.allocUnsafe(2 + answer.length);
    framed.writeUInt16BE(answer.length, 0);
    answer.copy(framed, 2);
    if (!this.stream.write(framed)) this.writeBlocked = true;
    this.processPending();
    this.updateFlow();
    this.finishIfDone();
  }
}
