/**
 * The entrance's side of link streams: a StreamOpener over a Link, for a proxy entrance (the
 * agent's, or `--socks` on this computer, whose streams go to the agent's exit). It picks the ids
 * in its side's half, sends STREAM_OPEN and waits for the exit's STREAM_OPENED (at most openTimeoutMs), and
 * hands each frame for an open stream to its EntranceStream. When the link ends, every stream
 * and every open in progress ends with it.
 *
 * What the exit sends is checked like anything from a peer: frames for ids that are not open are
 * answered with STREAM_RESET (never a RESET for a RESET), and counted.
 */
import { Capability } from "../../../shared/link-protocol.js";
import type { LinkError } from "../../../shared/link-protocol.js";
import {
  STREAM_ID_REVERSE_BIT,
  StreamOpenError,
  StreamStatus,
  type LinkStream,
  type StreamOpener,
  type StreamTarget,
} from "../../../shared/link-streams.js";
import type { StreamFrame } from "../../../shared/stream-frames.js";
import { LinkRoom } from "../link-room.js";
import type { Link, StreamFrameHandler } from "../link/link.js";
import { StreamRoom } from "../link/stream-credit.js";
import { EntranceStream } from "./entrance-stream.js";

export const DEFAULT_STREAM_OPEN_TIMEOUT_MS = 15_000;
/** Each stream's receive window: as much as the exit's TCP flows buffer (tcp/limits.ts). */
export const DEFAULT_STREAM_WINDOW_BYTES = 4 * 1024 * 1024;

export interface StreamOpenerOptions {
  /** How long an open waits for STREAM_OPENED. */
  openTimeoutMs?: number;
  windowBytes?: number;
}

export interface StreamOpenerCounters {
  opened: number;
  refused: number;
  timedOut: number;
  /** Frames for ids that are not open, or out of order: answered with RESET. */
  unexpectedFrames: number;
  /** CREDIT for ids no longer open. */
  lateCredits: number;
  malformedFrames: number;
}

interface PendingOpen {
  resolve: (stream: LinkStream) => void;
  reject: (error: StreamOpenError) => void;
  timer: NodeJS.Timeout;
}

/** Each side opens in its half of the id space (link-streams.ts: who opened a stream). */
const ID_RANGES = {
  entrance: { first: 1, last: STREAM_ID_REVERSE_BIT - 1 },
  exit: { first: STREAM_ID_REVERSE_BIT, last: 0xffffffff },
} as const;

export class LinkStreamOpener implements StreamOpener, StreamFrameHandler {
  readonly counters: StreamOpenerCounters = {
    opened: 0,
    refused: 0,
    timedOut: 0,
    unexpectedFrames: 0,
    lateCredits: 0,
    malformedFrames: 0,
  };
  private readonly streams = new Map<number, EntranceStream>();
  private readonly opening = new Map<number, PendingOpen>();
  private readonly room: StreamRoom;
  private nextId: number;
  private readonly ids: { first: number; last: number };
  private readonly openTimeoutMs: number;
  private readonly windowBytes: number;

  constructor(
    private readonly link: Link,
    options: StreamOpenerOptions = {},
  ) {
    this.openTimeoutMs = options.openTimeoutMs ?? DEFAULT_STREAM_OPEN_TIMEOUT_MS;
    this.windowBytes = options.windowBytes ?? DEFAULT_STREAM_WINDOW_BYTES;
    this.ids = ID_RANGES[link.role];
    this.nextId = this.ids.first;
    this.room = new StreamRoom(new LinkRoom(link));
    link.setStreamHandler(this, "here");
    link.once("close", () => this.linkClosed());
  }

  /** Streams open now. */
  get openCount(): number {
    return this.streams.size;
  }

  async open(target: StreamTarget): Promise<LinkStream> {
    try {
      await this.link.ready;
    } catch {
      throw new StreamOpenError(StreamStatus.GeneralFailure, "the link closed before it was ready");
    }
    if (!this.link.isOpen) throw new StreamOpenError(StreamStatus.GeneralFailure, "the link is closed");
    if ((this.link.sharedCapabilities & Capability.Streams) === 0) {
      throw new StreamOpenError(
        StreamStatus.GeneralFailure,
        "the exit does not carry streams (its HELLO has no Streams capability): use the same Backhaul release on both sides",
      );
    }
    if (this.link.role === "exit" && !this.link.reverse) {
      throw new StreamOpenError(
        StreamStatus.GeneralFailure,
        `the agent on the remote (Backhaul ${this.link.peer?.softwareVersion ?? "?"}) runs no exit ` +
          "(its HELLO has no Reverse capability): use the same Backhaul release on both sides",
      );
    }
    const id = this.allocateId();
    return new Promise<LinkStream>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.opening.delete(id)) return;
        this.counters.timedOut++;
        // The exit may still be dialling: tell it to give up.
        this.link.sendStreamFrame({ type: "reset", id, status: StreamStatus.TimedOut });
        reject(
          new StreamOpenError(
            StreamStatus.TimedOut,
            `the exit did not open the stream within ${this.openTimeoutMs / 1000} s`,
          ),
        );
      }, this.openTimeoutMs);
      this.opening.set(id, { resolve, reject, timer });
      let sent: boolean;
      try {
        sent = this.link.sendStreamFrame({ type: "open", id, target });
      } catch (error) {
        // A target the frame cannot carry (a name over 255 bytes, a port out of range).
        this.settle(id, new StreamOpenError(StreamStatus.GeneralFailure, String(error)));
        return;
      }
      if (!sent)
        this.settle(id, new StreamOpenError(StreamStatus.GeneralFailure, "the link is closed or full"));
    });
  }

  // ---- StreamFrameHandler ----

  frame(frame: StreamFrame): void {
    const stream = this.streams.get(frame.id);
    switch (frame.type) {
      case "opened":
        if (this.opening.has(frame.id)) this.opened(frame.id, frame.status, frame.address);
        else this.unexpected(frame.id);
        return;
      case "reset":
        if (stream) stream.receiveReset(frame.status);
        else if (this.opening.has(frame.id)) this.refused(frame.id, frame.status);
        else this.counters.unexpectedFrames++; // a RESET is never answered
        return;
      case "data":
        if (stream) stream.receiveData([frame.bytes], frame.bytes.length);
        else this.unexpected(frame.id);
        return;
      case "credit":
        // May cross the stream's end in flight: counted, never answered.
        if (stream) stream.receiveCredit(frame.bytes);
        else this.counters.lateCredits++;
        return;
      case "end":
        if (stream) stream.receiveEnd();
        else this.unexpected(frame.id);
        return;
      case "open":
        // Only the entrance opens streams.
        this.unexpected(frame.id);
        return;
    }
  }

  /** A STREAM_DATA split across the link's reads, as its pieces: passed on without a copy. */
  dataParts(id: number, parts: readonly Buffer[], length: number): void {
    const stream = this.streams.get(id);
    if (stream) stream.receiveData(parts, length);
    else this.unexpected(id);
  }

  malformed(id: number | null, _error: LinkError): void {
    this.counters.malformedFrames++;
    if (id === null) return;
    const stream = this.streams.get(id);
    if (stream) stream.abort(StreamStatus.ProtocolError);
    else if (this.opening.has(id)) {
      this.link.sendStreamFrame({ type: "reset", id, status: StreamStatus.ProtocolError });
      this.refused(id, StreamStatus.ProtocolError);
    }
  }

  // ---- inside ----

  private opened(id: number, status: StreamStatus, address: string | null): void {
    if (status !== StreamStatus.Ok || address === null) {
      this.refused(id, status);
      return;
    }
    const pending = this.opening.get(id)!;
    this.opening.delete(id);
    clearTimeout(pending.timer);
    this.counters.opened++;
    const stream = new EntranceStream(id, address, this.link, this.room, this.windowBytes, (gone) => {
      if (this.streams.get(gone.id) === gone) this.streams.delete(gone.id);
    });
    this.streams.set(id, stream);
    stream.start();
    pending.resolve(stream);
  }

  private refused(id: number, status: StreamStatus): void {
    this.counters.refused++;
    this.settle(id, new StreamOpenError(status, `the exit refused the stream: ${describeStatus(status)}`));
  }

  private settle(id: number, error: StreamOpenError): void {
    const pending = this.opening.get(id);
    if (!pending) return;
    this.opening.delete(id);
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  private unexpected(id: number): void {
    this.counters.unexpectedFrames++;
    this.link.sendStreamFrame({ type: "reset", id, status: StreamStatus.ProtocolError });
  }

  /** The next id of this side's half that is neither open nor opening (wrapping in the half). */
  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === this.ids.last ? this.ids.first : id + 1;
      if (!this.streams.has(id) && !this.opening.has(id)) return id;
    }
  }

  private linkClosed(): void {
    for (const id of [...this.opening.keys()]) {
      this.settle(id, new StreamOpenError(StreamStatus.GeneralFailure, "the link closed"));
    }
    for (const stream of [...this.streams.values()]) stream.linkClosed();
  }
}

const STATUS_TEXT: Record<StreamStatus, string> = {
  [StreamStatus.Ok]: "ok",
  [StreamStatus.GeneralFailure]: "general failure",
  [StreamStatus.NotAllowed]: "not allowed by the exit's egress policy",
  [StreamStatus.NetworkUnreachable]: "network unreachable",
  [StreamStatus.HostUnreachable]: "host unreachable",
  [StreamStatus.Refused]: "connection refused",
  [StreamStatus.TimedOut]: "timed out",
  [StreamStatus.NameNotFound]: "the name does not resolve",
  [StreamStatus.TooManyStreams]: "too many streams",
  [StreamStatus.ProtocolError]: "protocol error",
};

export function describeStatus(status: StreamStatus): string {
  return STATUS_TEXT[status];
}
