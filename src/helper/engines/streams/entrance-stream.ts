/**
 * One open stream at the entrance (the LinkStream a proxy reads and writes): its two halves with
 * their credit (link/stream-credit.ts) and how it ends: both sides' STREAM_END, or a RESET.
 */
import { StreamStatus, type LinkStream } from "../../../shared/link-streams.js";
import type { Link } from "../link/link.js";
import { StreamReceiver, StreamRoom, StreamSender } from "../link/stream-credit.js";

export class EntranceStream implements LinkStream {
  private readonly sender: StreamSender;
  private readonly receiver: StreamReceiver;
  private readonly dataListeners: Array<(bytes: Buffer) => void> = [];
  private readonly drainListeners: Array<() => void> = [];
  private readonly endListeners: Array<() => void> = [];
  private readonly closeListeners: Array<(status: StreamStatus) => void> = [];
  private remoteEnded = false;
  private closedWith: StreamStatus | null = null;

  constructor(
    readonly id: number,
    readonly remoteAddress: string,
    private readonly link: Link,
    room: StreamRoom,
    windowBytes: number,
    /** The opener forgets the stream. */
    private readonly gone: (stream: EntranceStream) => void,
  ) {
    this.receiver = new StreamReceiver(id, link, windowBytes);
    this.sender = new StreamSender(id, link, room, {
      drained: () => this.drainListeners.forEach((listener) => listener()),
      ended: () => this.finishIfDone(),
      failed: () => this.abort(StreamStatus.GeneralFailure),
    });
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Opens the receive window beyond the initial credit; right after STREAM_OPENED. */
  start(): void {
    if (!this.receiver.openWindow()) this.abort(StreamStatus.GeneralFailure);
  }

  /** Keeps `bytes` until sent: the caller must not change them. */
  write(bytes: Buffer): boolean {
    return this.closedWith === null && this.sender.write(bytes);
  }

  end(): void {
    this.sender.end();
  }

  reset(): void {
    this.abort(StreamStatus.GeneralFailure);
  }

  onData(listener: (bytes: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  consumed(bytes: number): void {
    if (this.closedWith === null && !this.receiver.consumed(bytes)) this.abort(StreamStatus.GeneralFailure);
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  /** A listener added after the end hears it at once (in a microtask), as a late `await` would. */
  onEnd(listener: () => void): void {
    if (this.remoteEnded) queueMicrotask(listener);
    else this.endListeners.push(listener);
  }

  /** A listener added after the close hears it at once (in a microtask). */
  onClose(listener: (status: StreamStatus) => void): void {
    const status = this.closedWith;
    if (status !== null) queueMicrotask(() => listener(status));
    else this.closeListeners.push(listener);
  }

  // ---- from the opener, one per frame for this id ----

  /**
   * One STREAM_DATA: its bytes are `parts` (`length` in all; more than one when the frame was
   * split across the link's reads), views into what the link received, handed on as they are.
   * The credit is checked for the frame as a whole, as the peer sent it.
   */
  receiveData(parts: readonly Buffer[], length: number): void {
    if (this.remoteEnded || !this.receiver.accept(length)) {
      this.abort(StreamStatus.ProtocolError);
      return;
    }
    for (const part of parts) {
      for (const listener of this.dataListeners) listener(part);
    }
  }

  receiveCredit(bytes: number): void {
    this.sender.grant(bytes);
  }

  receiveEnd(): void {
    if (this.remoteEnded) {
      this.abort(StreamStatus.ProtocolError);
      return;
    }
    this.remoteEnded = true;
    for (const listener of this.endListeners) listener();
    this.finishIfDone();
  }

  /** The exit reset the stream: nothing is sent back. */
  receiveReset(status: StreamStatus): void {
    this.finish(status === StreamStatus.Ok ? StreamStatus.GeneralFailure : status);
  }

  /** The link closed. */
  linkClosed(): void {
    this.finish(StreamStatus.GeneralFailure);
  }

  /** Resets the stream from this side, telling the exit why. */
  abort(status: StreamStatus): void {
    if (this.closedWith !== null) return;
    this.link.sendStreamFrame({ type: "reset", id: this.id, status });
    this.finish(status);
  }

  private finishIfDone(): void {
    if (this.remoteEnded && this.sender.ended) this.finish(StreamStatus.Ok);
  }

  private finish(status: StreamStatus): void {
    if (this.closedWith !== null) return;
    this.closedWith = status;
    this.sender.close();
    this.gone(this);
    for (const listener of this.closeListeners) listener(status);
  }
}
