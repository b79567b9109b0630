/**
 * A FAKE StreamOpener for tests: it dials real local sockets directly instead of asking an exit
 * over the link, with the link's credit rules (writes beyond the credit return false until the
 * destination socket took the bytes; data towards the entrance stops once `window` bytes are
 * unconsumed). Names are looked up in a table given to it, as the exit's DNS engine would.
 */
import { connect, isIP, type Socket } from "node:net";
import {
  STREAM_INITIAL_CREDIT,
  StreamOpenError,
  StreamStatus,
  type LinkStream,
  type StreamOpener,
  type StreamTarget,
} from "../../../shared/link-streams.js";

export interface FakeOpenerOptions {
  /** name -> address, for "name" targets; others fail with NameNotFound. */
  names?: Record<string, string>;
  /** Both directions' credit; the link's initial credit unless given. */
  window?: number;
}

export class FakeStreamOpener implements StreamOpener {
  readonly opened: StreamTarget[] = [];
  readonly streams: FakeLinkStream[] = [];
  private nextId = 1;

  constructor(private readonly options: FakeOpenerOptions = {}) {}

  async open(target: StreamTarget): Promise<LinkStream> {
    this.opened.push(target);
    const address = target.kind === "address" ? target.address : this.options.names?.[target.name];
    if (address === undefined || isIP(address) === 0)
      throw new StreamOpenError(StreamStatus.NameNotFound, `${JSON.stringify(target)} does not resolve`);
    const socket = connect({ host: address, port: target.port, allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", (error: NodeJS.ErrnoException) => {
        const status = error.code === "ECONNREFUSED" ? StreamStatus.Refused : StreamStatus.HostUnreachable;
        reject(new StreamOpenError(status, error.message));
      });
    });
    const stream = new FakeLinkStream(this.nextId++, socket, this.options.window ?? STREAM_INITIAL_CREDIT);
    this.streams.push(stream);
    return stream;
  }
}

export class FakeLinkStream implements LinkStream {
  readonly remoteAddress: string;
  /** Bytes handed to the entrance and not yet consumed: bounded by the window. */
  unconsumed = 0;
  maxUnconsumed = 0;
  /** Writes the entrance made past its credit: must stay 0. */
  overCredit = 0;
  private credit: number;
  private readonly listeners = {
    data: [] as Array<(bytes: Buffer) => void>,
    drain: [] as Array<() => void>,
    end: [] as Array<() => void>,
    close: [] as Array<(status: StreamStatus) => void>,
  };
  private closed = false;
  private endedBy = { entrance: false, destination: false };

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly window: number,
  ) {
    this.remoteAddress = socket.remoteAddress ?? "";
    this.credit = window;
    socket.on("data", (bytes: Buffer) => {
      this.unconsumed += bytes.length;
      this.maxUnconsumed = Math.max(this.maxUnconsumed, this.unconsumed);
      if (this.unconsumed >= this.window) socket.pause();
      for (const listener of this.listeners.data) listener(bytes);
    });
    socket.on("end", () => {
      this.endedBy.destination = true;
      for (const listener of this.listeners.end) listener();
      this.closeIfDone();
    });
    socket.on("error", () => this.close(StreamStatus.Refused));
    socket.on("close", () => {
      if (!this.endedBy.destination || !this.endedBy.entrance) this.close(StreamStatus.Refused);
    });
  }

  write(bytes: Buffer): boolean {
    if (bytes.length > this.credit) this.overCredit++;
    this.credit -= bytes.length;
    this.socket.write(bytes, () => {
      const wasBlocked = this.credit <= 0;
      this.credit += bytes.length;
      if (wasBlocked && this.credit > 0) for (const listener of this.listeners.drain) listener();
    });
    return this.credit > 0;
  }

  end(): void {
    this.endedBy.entrance = true;
    this.socket.end();
    this.closeIfDone();
  }

  reset(): void {
    this.socket.resetAndDestroy();
    this.close(StreamStatus.GeneralFailure);
  }

  consumed(bytes: number): void {
    this.unconsumed -= bytes;
    if (this.unconsumed < this.window && !this.socket.destroyed) this.socket.resume();
  }

  onData(listener: (bytes: Buffer) => void): void {
    this.listeners.data.push(listener);
  }
  onDrain(listener: () => void): void {
    this.listeners.drain.push(listener);
  }
  onEnd(listener: () => void): void {
    this.listeners.end.push(listener);
  }
  onClose(listener: (status: StreamStatus) => void): void {
    this.listeners.close.push(listener);
  }

  private closeIfDone(): void {
    if (this.endedBy.entrance && this.endedBy.destination) this.close(StreamStatus.Ok);
  }

  private close(status: StreamStatus): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.listeners.close) listener(status);
  }
}
