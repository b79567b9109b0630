/**
 * A Backhaul link over any Node Duplex byte stream: the SSH exec channel, a Unix socket, an
 * in-memory pair in tests. Handshakes with HELLO, carries batched packets and control frames, and
 * closes with BYE or a typed LinkError. The wire format is in src/shared/link-protocol.ts.
 *
 * Nothing the peer sends can throw out of this class: framing errors close the link with a
 * LinkError, payloads that do not decode are counted and dropped.
 *
 * Attach listeners right after constructing: frames that arrive with the peer's HELLO are emitted
 * in the same turn, before `await link.ready` would resume.
 *
 * Not here: reconnecting (the broker opens a new stream and a new Link), negotiating the frame
 * limit (protocol v1 fixes it; both sides must use the same maxFrameLength), compression.
 */
import { EventEmitter } from "node:events";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import {
  Capability,
  FrameType,
  LinkError,
  MAX_FRAME_LENGTH,
  PROTOCOL_VERSION,
  decodeBye,
  decodeConfig,
  decodeErrorPayload,
  decodeHello,
  decodeNonce,
  decodePackets,
  decodeStats,
  emptyLinkCounters,
  encodeBye,
  encodeConfig,
  encodeErrorPayload,
  encodeHello,
  encodeNonce,
  encodeStats,
  errorCodeFor,
  frameTypeName,
  readHelloVersion,
  ErrorCode,
} from "../../../shared/link-protocol.js";
import type {
  Hello,
  LinkConfig,
  LinkCounters,
  LinkRole,
  PeerErrorReport,
  StatsReport,
} from "../../../shared/link-protocol.js";
import {
  decodeStreamFrame,
  encodeStreamFrame,
  isStreamFrameType,
  streamIdOf,
  type StreamFrame,
} from "../../../shared/stream-frames.js";
import { STREAM_ID_REVERSE_BIT, STREAM_MAX_DATA, StreamFrameType } from "../../../shared/link-streams.js";
import {
  DiagnoseFrameType,
  decodeDiagnoseRequest,
  decodeRemoteDiagnosis,
  encodeDiagnoseRequest,
  encodeRemoteDiagnosis,
  type RemoteDiagnoseRequest,
  type RemoteDiagnosis,
} from "../../../shared/diagnose-frames.js";
import type { FlowRow, TableDelta } from "../../../shared/flow-row.js";
import { decodeFlows, encodeFlows } from "../../../shared/flows-frame.js";
import { FrameDecoder, isSplitFrame, type SplitFrame } from "./frame-decoder.js";
import { PacketBatcher } from "./packet-batcher.js";

export interface LinkOptions {
  role: LinkRole;
  /** This side's Backhaul release, sent in HELLO and named in version-mismatch errors. */
  softwareVersion: string;
  /** Capability bits (see Capability), default none. */
  capabilities?: number;
  /** Largest frame sent and accepted; both sides must agree. Default MAX_FRAME_LENGTH. */
  maxFrameLength?: number;
  /** Outbound bytes held while the stream pushes back; packets beyond it are dropped. */
  maxQueuedBytes?: number;
  /** Close when the peer's HELLO does not arrive in time; 0 waits forever. Default 30 s. */
  handshakeTimeoutMs?: number;
  /** Default timeout of ping(). Default 10 s. */
  pingTimeoutMs?: number;
  /** Ping this often once open and close with PING_TIMEOUT when one goes unanswered; 0 = off. */
  keepaliveIntervalMs?: number;
  /** After closing, how long to wait for the peer to end its side before destroying the stream. */
  closeTimeoutMs?: number;
}

export interface LinkCloseInfo {
  /** Who ended the link: this side (close() or a protocol error), the peer (BYE, ERROR), or the stream. */
  initiator: "local" | "peer" | "transport";
  /** The BYE reason, or the error's message. */
  reason: string;
  /** Null for a clean BYE in either direction. */
  error: LinkError | null;
}

export interface LinkEvents {
  /** The peer's HELLO was accepted (same as `ready` resolving). */
  ready: [peer: Hello];
  /**
   * IP packets from one PACKETS frame, in order. Views into the received frame: they are never
   * overwritten, but each pins up to a whole frame or stream chunk, so copy what you keep past the
   * callback.
   */
  packets: [packets: Buffer[]];
  /**
   * REVERSE_PACKETS (revision 2, when both sides announced Capability.Reverse): the packets
   * between this computer's TUN and the agent's exit. Views, as for 'packets'.
   */
  reversePackets: [packets: Buffer[]];
  /** FLOWS (revision 2): the agent's exit's NAT table deltas, checked and sanitised. */
  flows: [delta: TableDelta<FlowRow>];
  config: [config: LinkConfig];
  stats: [report: StatsReport];
  /** The peer sent an ERROR frame; if it was fatal the link closes next with PEER_ERROR. */
  peerError: [report: PeerErrorReport];
  /** A frame whose payload did not decode; it was dropped and counted. */
  malformed: [error: LinkError, frameType: number];
  /** The peer asks for remote checks (DIAGNOSE); only when this side announced Capability.Diagnose. */
  diagnoseRequest: [request: RemoteDiagnoseRequest];
  /** The peer's answer to a DIAGNOSE (checked, sanitised data); only with Capability.Diagnose. */
  diagnoseResult: [result: RemoteDiagnosis];
  /** `writable` is true again after being false. */
  drain: [];
  /** Emitted once, whatever ended the link. */
  close: [info: LinkCloseInfo];
}

/**
 * Who the STREAM_* frames go to: the entrance's stream opener or the exit's stream forwarder. The
 * Link only decodes them; streams, ids and credit are the handler's. A handler must not throw.
 */
export interface StreamFrameHandler {
  frame(frame: StreamFrame): void;
  /**
   * A STREAM_DATA that arrived split across the link's reads: its bytes are `parts` in order
   * (`length` in all), views into the reads, never copied. Without this method the handler gets
   * such a frame joined (copied) through `frame`, as any other.
   */
  dataParts?(id: number, parts: readonly Buffer[], length: number): void;
  /** A stream frame that did not decode (counted as malformed); `id` when it had one. */
  malformed(id: number | null, error: LinkError): void;
}

/** Who opened a stream, seen from this side of the link. */
export type StreamOpenedBy = "here" | "there";

interface PendingPing {
  startedAt: number;
  resolve: (rttMs: number) => void;
  reject: (error: LinkError) => void;
  timer: NodeJS.Timeout;
}

type LinkState = "handshake" | "open" | "closed";

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;
const DEFAULT_PING_TIMEOUT_MS = 10_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
/** Stream bytes kept from before the handshake, to show the user what the peer printed instead. */
const PREAMBLE_BYTES = 80;

export class Link extends EventEmitter<LinkEvents> {
  readonly role: LinkRole;
  readonly softwareVersion: string;
  readonly capabilities: number;
  /** Resolves with the peer's HELLO; rejects with the LinkError that closed the link before it. */
  readonly ready: Promise<Hello>;
  /** Resolves (never rejects) when the link has closed, with why. */
  readonly closed: Promise<LinkCloseInfo>;

  private readonly stream: Duplex;
  private readonly decoder: FrameDecoder;
  private readonly batcher: PacketBatcher;
  private readonly pingTimeoutMs: number;
  private readonly keepaliveIntervalMs: number;
  private readonly closeTimeoutMs: number;

  private state: LinkState = "handshake";
  private peerHello: Hello | null = null;
  private readonly inbound = {
    framesIn: 0,
    bytesIn: 0,
    packetsIn: 0,
    malformedFrames: 0,
    unknownFrames: 0,
  };
  private paused = false;
  private inputEnded = false;
  private lastPeerError: PeerErrorReport | null = null;
  private preamble: Buffer | null = Buffer.alloc(0);
  /** Streams this side opens, and streams the peer opens (link-streams.ts: who opened a stream). */
  private readonly streamHandlers: Record<StreamOpenedBy, StreamFrameHandler | null> = {
    here: null,
    there: null,
  };

  private readonly pings = new Map<bigint, PendingPing>();
  private nextNonce = 1n;
  private lastRttMs: number | null = null;

  private handshakeTimer: NodeJS.Timeout | null = null;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private resolveReady: (peer: Hello) => void = () => {};
  private rejectReady: (error: LinkError) => void = () => {};
  private resolveClosed: (info: LinkCloseInfo) => void = () => {};

  constructor(stream: Duplex, options: LinkOptions) {
    super();
    if (options.role !== "entrance" && options.role !== "exit") {
      throw new RangeError(`role must be "entrance" or "exit", got ${String(options.role)}`);
    }
    this.stream = stream;
    this.role = options.role;
    this.softwareVersion = options.softwareVersion;
    this.capabilities = options.capabilities ?? 0;
    this.pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    this.keepaliveIntervalMs = options.keepaliveIntervalMs ?? 0;
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    const maxFrameLength = options.maxFrameLength ?? MAX_FRAME_LENGTH;
    this.decoder = new FrameDecoder(maxFrameLength);
    this.batcher = new PacketBatcher((chunk) => stream.write(chunk), {
      maxFrameLength,
      ...(options.maxQueuedBytes === undefined ? {} : { maxQueuedBytes: options.maxQueuedBytes }),
    });

    this.ready = new Promise<Hello>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // A failed handshake is also reported by 'close' and `closed`: awaiting `ready` is optional,
    // and an unobserved rejection must not take the process down.
    this.ready.catch(() => {});
    this.closed = new Promise<LinkCloseInfo>((resolve) => {
      this.resolveClosed = resolve;
    });

    stream.on("data", this.onData);
    stream.on("end", this.onEnd);
    stream.on("close", this.onStreamClose);
    stream.on("error", this.onStreamError);
    stream.on("drain", this.onDrain);

    const hello = encodeHello({
      version: PROTOCOL_VERSION,
      role: this.role,
      capabilities: this.capabilities,
      softwareVersion: this.softwareVersion,
    });
    this.batcher.addFrame(FrameType.Hello, hello, true);
    this.batcher.flush(true);

    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (handshakeTimeoutMs > 0) {
      this.handshakeTimer = setTimeout(() => {
        this.fail(
          new LinkError(
            "HANDSHAKE_TIMEOUT",
            `the other side sent no HELLO within ${handshakeTimeoutMs / 1000} s: ` +
              "it is not a Backhaul link endpoint, or it is stuck starting",
          ),
          "local",
          true,
        );
      }, handshakeTimeoutMs);
    }
  }

  /** The peer's HELLO once the handshake is done, else null. */
  get peer(): Hello | null {
    return this.peerHello;
  }

  /** Capabilities both sides announced. 0 before the handshake. */
  get sharedCapabilities(): number {
    return this.peerHello === null ? 0 : (this.capabilities & this.peerHello.capabilities) >>> 0;
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  /**
   * False while the stream pushes back (or after close): producers should pause until 'drain'.
   * Packets sent anyway are queued up to maxQueuedBytes, then dropped and counted.
   */
  get writable(): boolean {
    return this.state !== "closed" && !this.batcher.blocked;
  }

  /** Outbound bytes queued and not yet handed to the stream; bounded by maxQueuedBytes. */
  get queuedBytes(): number {
    return this.batcher.pendingBytes;
  }

  /** Last measured round-trip time in ms, or null before the first PONG. */
  get rttMs(): number | null {
    return this.lastRttMs;
  }

  get counters(): LinkCounters {
    const out = this.batcher.counters;
    return {
      ...emptyLinkCounters(),
      ...this.inbound,
      framesOut: out.framesOut,
      bytesOut: out.bytesOut,
      packetsOut: out.packetsOut,
      queueDrops: out.queueDrops,
      rejectedPackets: out.rejectedPackets,
    };
  }

  /** Stream writes made so far: with batching, far fewer than packets sent. */
  get writeCount(): number {
    return this.batcher.counters.writes;
  }

  /**
   * Queues one IP packet; it goes out with the others queued this turn. The packet is copied:
   * the caller may reuse its Buffer at once. Returns `writable`.
   */
  sendPacket(packet: Uint8Array): boolean {
    if (this.state !== "closed") this.batcher.addPacket(packet);
    return this.writable;
  }

  /**
   * Queues a packet of `length` bytes built in place by `fill` (see PacketBatcher.addPacketWith):
   * the hot path of the NAT engine, which would otherwise build each packet in a Buffer of its
   * own only to have it copied. Returns `writable`.
   */
  sendPacketWith(length: number, fill: (target: Buffer, offset: number) => void): boolean {
    if (this.state !== "closed") this.batcher.addPacketWith(length, fill);
    return this.writable;
  }

  /** sendPacket for each, in order. Returns `writable`. */
  sendPackets(packets: readonly Uint8Array[]): boolean {
    if (this.state !== "closed") {
      for (const packet of packets) this.batcher.addPacket(packet);
    }
    return this.writable;
  }

  /**
   * Queues a CONFIG frame. Throws LinkError MALFORMED_PAYLOAD for an invalid config (the peer
   * would reject it). Returns false when the link is closed or the queue is full.
   */
  sendConfig(config: LinkConfig): boolean {
    const payload = encodeConfig(config);
    return this.state !== "closed" && this.batcher.addFrame(FrameType.Config, payload);
  }

  /**
   * Queues a STATS frame with this link's counters and RTT plus `extra` numbers (names like
   * "tun.readErrors"). Returns false when the link is closed or the queue is full.
   */
  sendStats(extra: Readonly<Record<string, number>> = {}): boolean {
    const payload = encodeStats({
      sentAt: Date.now(),
      rttMs: this.lastRttMs,
      link: this.counters,
      extra: { ...extra },
    });
    return this.state !== "closed" && this.batcher.addFrame(FrameType.Stats, payload);
  }

  /** Whether both sides announced Capability.Reverse (link-protocol.ts: the reverse direction). */
  get reverse(): boolean {
    return (this.sharedCapabilities & Capability.Reverse) !== 0;
  }

  /**
   * Where STREAM_* frames go: `here` gets the frames of streams this side opened (a proxy's
   * opener), `there` those of streams the peer opened (an exit's forwarder). Null (the default)
   * skips them as frames of an unknown type, which is what a side that did not announce
   * Capability.Streams must do.
   */
  setStreamHandler(
    handler: StreamFrameHandler | null,
    openedBy: StreamOpenedBy = this.role === "entrance" ? "here" : "there",
  ): void {
    this.streamHandlers[openedBy] = handler;
  }

  /** Which side opened the stream `id`: by its top bit with Reverse, else always the entrance. */
  streamOpenedBy(id: number): StreamOpenedBy {
    const byEntrance = !this.reverse || id < STREAM_ID_REVERSE_BIT;
    return byEntrance === (this.role === "entrance") ? "here" : "there";
  }

  /**
   * Queues packets for the other direction's engines (REVERSE_PACKETS): from this computer's
   * TUN to the agent's exit, or back. Copied, as sendPacket; dropped (and counted as rejected)
   * when the peer lacks Capability.Reverse. Returns `writable`.
   */
  sendReversePackets(packets: readonly Uint8Array[]): boolean {
    if (this.state === "closed") return false;
    if (!this.reverse) {
      this.batcher.counters.rejectedPackets += packets.length;
      return this.writable;
    }
    for (const packet of packets) this.batcher.addPacket(packet, FrameType.ReversePackets);
    return this.writable;
  }

  /** sendPacketWith for REVERSE_PACKETS (see sendReversePackets). */
  sendReversePacketWith(length: number, fill: (target: Buffer, offset: number) => void): boolean {
    if (this.state === "closed") return false;
    if (!this.reverse) this.batcher.counters.rejectedPackets++;
    else this.batcher.addPacketWith(length, fill, FrameType.ReversePackets);
    return this.writable;
  }

  /** Queues a FLOWS frame (the agent's exit's table delta). False when closed, full or not Reverse. */
  sendFlows(delta: TableDelta<FlowRow>): boolean {
    if (this.state === "closed" || !this.reverse) return false;
    const payload = encodeFlows(delta);
    if (payload.length + 1 > this.batcher.maxFrameLength) return false;
    return this.batcher.addFrame(FrameType.Flows, payload);
  }

  /**
   * Queues a stream frame (STREAM_DATA's bytes are copied once, straight into the batch). Returns
   * false when the link is closed or its queue is full: the frame was not sent, and a sender that
   * cannot lose it must end the stream.
   */
  sendStreamFrame(frame: StreamFrame): boolean {
    if (this.state === "closed") return false;
    if (frame.type === "data") {
      const { id, bytes } = frame;
      if (bytes.length === 0) throw new RangeError("STREAM_DATA carries at least one byte");
      return this.batcher.addFrameWith(StreamFrameType.Data, 4 + bytes.length, (target, offset) => {
        target.writeUInt32BE(id, offset);
        target.set(bytes, offset + 4);
      });
    }
    const { type, payload } = encodeStreamFrame(frame);
    return this.batcher.addFrame(type, payload);
  }

  /**
   * Queues a DIAGNOSE (or its answer). Returns false when the link is closed, the queue is full or
   * the peer did not announce Capability.Diagnose (it would skip the frame): nothing was sent.
   */
  sendDiagnoseRequest(request: RemoteDiagnoseRequest): boolean {
    return this.sendDiagnoseFrame(DiagnoseFrameType.Request, () => encodeDiagnoseRequest(request));
  }

  sendDiagnoseResult(result: RemoteDiagnosis): boolean {
    return this.sendDiagnoseFrame(DiagnoseFrameType.Result, () => encodeRemoteDiagnosis(result));
  }

  private sendDiagnoseFrame(type: DiagnoseFrameType, encode: () => Buffer): boolean {
    if (this.state !== "open" || (this.sharedCapabilities & Capability.Diagnose) === 0) return false;
    return this.batcher.addFrame(type, encode());
  }

  /** Sends a PING; resolves with the round-trip time in ms, rejects with a LinkError. */
  ping(timeoutMs: number = this.pingTimeoutMs): Promise<number> {
    if (this.state === "closed") {
      return Promise.reject(new LinkError("LINK_CLOSED", "cannot ping: the link is closed"));
    }
    const nonce = this.nextNonce++;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(nonce);
        reject(new LinkError("PING_TIMEOUT", `the peer did not answer a ping within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pings.set(nonce, { startedAt: performance.now(), resolve, reject, timer });
      if (!this.batcher.addFrame(FrameType.Ping, encodeNonce(nonce))) {
        clearTimeout(timer);
        this.pings.delete(nonce);
        reject(new LinkError("PING_TIMEOUT", "cannot ping: the outbound queue is full"));
      }
    });
  }

  /** Stops reading from the stream (the peer's writes back up) and stops emitting frames. */
  pause(): void {
    // A closed link keeps reading (and ignoring) until the peer ends its side.
    if (this.state === "closed") return;
    this.paused = true;
    this.stream.pause();
  }

  /** Emits frames already received, then reads from the stream again. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.processInput();
    if (!this.paused) this.stream.resume();
  }

  /**
   * Sends BYE after everything already queued, ends the stream and emits 'close'. Packets sent
   * after this are ignored.
   */
  close(reason = ""): void {
    if (this.state === "closed") return;
    if (this.stream.writable) {
      this.batcher.addFrame(FrameType.Bye, encodeBye(reason), true);
      this.batcher.flush(true);
    }
    this.finish({ initiator: "local", reason, error: null });
  }

  // ------------------------------------------------------------------------------------------
  // Inbound

  private readonly onData = (data: unknown): void => {
    if (this.state === "closed") return;
    if (!(data instanceof Uint8Array)) {
      this.fail(new LinkError("STREAM_ERROR", "the link's stream delivered text, not bytes"), "local", false);
      return;
    }
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.inbound.bytesIn += chunk.length;
    if (this.preamble !== null && this.preamble.length < PREAMBLE_BYTES) {
      this.preamble = Buffer.concat([
        this.preamble,
        chunk.subarray(0, PREAMBLE_BYTES - this.preamble.length),
      ]);
    }
    this.decoder.push(chunk);
    this.processInput();
  };

  private readonly onEnd = (): void => {
    this.inputEnded = true;
    if (this.state === "closed") {
      this.destroyStreamWhenFlushed();
      return;
    }
    this.processInput();
  };

  private readonly onStreamClose = (): void => {
    // A stream destroyed without 'end' (reset, killed process) ends the input all the same.
    if (this.state !== "closed" && !this.inputEnded) this.onEnd();
  };

  private readonly onStreamError = (error: Error): void => {
    // Stays attached after close: a late EPIPE must not become an uncaught 'error'.
    if (this.state === "closed") return;
    this.fail(
      new LinkError("STREAM_ERROR", `the link's stream failed: ${error.message}`, { cause: error }),
      "transport",
      false,
    );
  };

  private readonly onDrain = (): void => {
    if (this.state === "closed") return;
    const wasBlocked = this.batcher.blocked;
    if (this.batcher.handleDrain() && wasBlocked) this.emit("drain");
  };

  /** Emits every whole frame received, unless paused; then handles the end of the stream. */
  private processInput(): void {
    while (!this.paused && this.state !== "closed") {
      let frame;
      try {
        frame = this.decoder.nextOrSplit(this.keepSplit);
      } catch (error) {
        this.fail(asLinkError(error), "local", true);
        return;
      }
      if (frame === null) break;
      if (isSplitFrame(frame)) this.handleSplitFrame(frame);
      else this.handleFrame(frame.type, frame.payload);
    }
    if (this.inputEnded && !this.paused && this.state !== "closed") this.handleInputEnd();
  }

  private handleInputEnd(): void {
    try {
      this.decoder.finish();
    } catch (error) {
      this.fail(asLinkError(error), "transport", false);
      return;
    }
    if (this.lastPeerError !== null) {
      const { code, message } = this.lastPeerError;
      this.fail(
        new LinkError(
          "PEER_ERROR",
          `the other side closed the link after an error (code ${code}): ${message}`,
        ),
        "peer",
        false,
      );
    } else if (this.state === "handshake") {
      this.fail(
        new LinkError(
          "STREAM_ENDED",
          "the other side ended the link before its HELLO: it is not a Backhaul link endpoint, or it failed to start",
        ),
        "transport",
        false,
      );
    } else {
      this.fail(
        new LinkError(
          "STREAM_ENDED",
          "the link ended without a goodbye: the other side exited or the connection dropped",
        ),
        "transport",
        false,
      );
    }
  }

  /** STREAM_DATA on an open link is passed on in its pieces (handleSplitFrame); the rest is copied whole. */
  private readonly keepSplit = (type: number): boolean =>
    type === StreamFrameType.Data && this.state === "open";

  /**
   * A STREAM_DATA that straddled reads: to its handler in pieces when the frame is well formed and
   * the handler takes pieces; otherwise joined, down the path every frame takes (which also
   * counts and answers a malformed one).
   */
  private handleSplitFrame(frame: SplitFrame): void {
    const { type, parts, length } = frame;
    const idBytes = 4;
    const first = parts[0];
    const wellFormed = length > idBytes && length <= idBytes + STREAM_MAX_DATA && first !== undefined;
    const id = wellFormed
      ? (first.length >= idBytes ? first : Buffer.concat(parts, idBytes)).readUInt32BE(0)
      : 0;
    const handler = wellFormed && this.state === "open" ? this.streamHandlers[this.streamOpenedBy(id)] : null;
    if (handler?.dataParts === undefined) {
      this.handleFrame(type, Buffer.concat(parts, length));
      return;
    }
    this.inbound.framesIn++;
    // The id's 4 bytes may span parts too.
    const data: Buffer[] = [];
    let skip = idBytes;
    for (const part of parts) {
      if (skip >= part.length) skip -= part.length;
      else {
        data.push(skip === 0 ? part : part.subarray(skip));
        skip = 0;
      }
    }
    handler.dataParts(id, data, length - idBytes);
  }

  private handleFrame(type: number, payload: Buffer): void {
    this.inbound.framesIn++;
    if (this.state === "handshake") {
      if (type === FrameType.Hello) this.acceptHello(payload);
      else if (type === FrameType.Error) this.receivePeerError(payload);
      else if (type === FrameType.Bye) this.receiveBye(payload);
      else {
        this.fail(
          new LinkError(
            "UNEXPECTED_FRAME",
            `the other side sent ${frameTypeName(type)} before its HELLO: it does not speak the Backhaul link protocol`,
          ),
          "local",
          true,
        );
      }
      return;
    }
    switch (type) {
      case FrameType.Packets:
        this.receivePackets(type, payload, "packets");
        return;
      case FrameType.Config: {
        const config = this.decodeOrDrop(type, payload, decodeConfig, true);
        if (config !== null) this.emit("config", config);
        return;
      }
      case FrameType.Stats: {
        const report = this.decodeOrDrop(type, payload, decodeStats, true);
        if (report !== null) this.emit("stats", report);
        return;
      }
      case FrameType.Ping:
        if (this.decodeOrDrop(type, payload, (p) => decodeNonce(p, "PING"), true) !== null) {
          // The nonce is echoed as received; addFrame copies it out of the receive buffer.
          this.batcher.addFrame(FrameType.Pong, payload);
        }
        return;
      case FrameType.Pong: {
        const nonce = this.decodeOrDrop(type, payload, (p) => decodeNonce(p, "PONG"), true);
        if (nonce !== null) this.receivePong(nonce);
        return;
      }
      case FrameType.Error:
        this.receivePeerError(payload);
        return;
      case FrameType.Bye:
        this.receiveBye(payload);
        return;
      case FrameType.Hello:
        this.fail(new LinkError("UNEXPECTED_FRAME", "the other side sent a second HELLO"), "local", true);
        return;
      case DiagnoseFrameType.Request:
      case DiagnoseFrameType.Result:
        this.receiveDiagnoseFrame(type, payload);
        return;
      case FrameType.ReversePackets: {
        // Only with Reverse on both sides: otherwise an unknown type, as revision 1 reads it.
        if (!this.reverse) return void this.inbound.unknownFrames++;
        this.receivePackets(type, payload, "reversePackets");
        return;
      }
      case FrameType.Flows: {
        if (!this.reverse) return void this.inbound.unknownFrames++;
        const delta = this.decodeOrDrop(type, payload, decodeFlows, false);
        if (delta !== null) this.emit("flows", delta);
        return;
      }
      default:
        if (isStreamFrameType(type)) this.receiveStreamFrame(type, payload);
        else this.inbound.unknownFrames++;
    }
  }

  /** Without Capability.Diagnose announced, these are frames of a type this side does not know. */
  private receiveDiagnoseFrame(type: DiagnoseFrameType, payload: Buffer): void {
    if ((this.capabilities & Capability.Diagnose) === 0) {
      this.inbound.unknownFrames++;
      return;
    }
    if (type === DiagnoseFrameType.Request) {
      const request = this.decodeOrDrop(type, payload, decodeDiagnoseRequest, true);
      if (request !== null) this.emit("diagnoseRequest", request);
    } else {
      const result = this.decodeOrDrop(type, payload, decodeRemoteDiagnosis, true);
      if (result !== null) this.emit("diagnoseResult", result);
    }
  }

  private receiveStreamFrame(type: number, payload: Buffer): void {
    const id = streamIdOf(payload);
    const handler =
      id === null
        ? (this.streamHandlers.there ?? this.streamHandlers.here)
        : this.streamHandlers[this.streamOpenedBy(id)];
    if (handler === null) return void this.inbound.unknownFrames++;
    let frame: StreamFrame;
    try {
      frame = decodeStreamFrame(type, payload);
    } catch (caught) {
      const error = asLinkError(caught);
      this.inbound.malformedFrames++;
      this.emit("malformed", error, type);
      handler.malformed(id, error);
      return;
    }
    handler.frame(frame);
  }

  /** A PACKETS or REVERSE_PACKETS frame: its packets, counted, to the event's listeners. */
  private receivePackets(type: number, payload: Buffer, event: "packets" | "reversePackets"): void {
    const packets = this.decodeOrDrop(type, payload, decodePackets, false);
    if (packets === null) return;
    this.inbound.packetsIn += packets.length;
    this.emit(event, packets);
  }

  /** Decodes a payload, or counts it as malformed (telling the peer, for control frames) and returns null. */
  private decodeOrDrop<T>(
    type: number,
    payload: Buffer,
    decode: (payload: Buffer) => T,
    tellPeer: boolean,
  ): T | null {
    try {
      return decode(payload);
    } catch (caught) {
      const error = asLinkError(caught);
      this.inbound.malformedFrames++;
      if (tellPeer) {
        this.batcher.addFrame(
          FrameType.Error,
          encodeErrorPayload({ code: ErrorCode.MalformedFrame, message: error.message }),
        );
      }
      this.emit("malformed", error, type);
      return null;
    }
  }

  private acceptHello(payload: Buffer): void {
    let hello: Hello;
    try {
      const version = readHelloVersion(payload);
      if (version !== PROTOCOL_VERSION) {
        this.fail(this.versionMismatch(version, payload), "local", true);
        return;
      }
      hello = decodeHello(payload);
    } catch (error) {
      this.fail(asLinkError(error), "local", true);
      return;
    }
    if (hello.role === this.role) {
      this.fail(
        new LinkError(
          "ROLE_CONFLICT",
          `both sides of the link are ${this.role === "entrance" ? "entrances" : "exits"}: ` +
            "one side must capture packets (entrance) and the other forward them (exit)",
        ),
        "local",
        true,
      );
      return;
    }
    this.state = "open";
    this.peerHello = hello;
    this.preamble = null;
    this.clearHandshakeTimer();
    this.startKeepalive();
    this.resolveReady(hello);
    this.emit("ready", hello);
  }

  private versionMismatch(peerVersion: number, payload: Buffer): LinkError {
    let peerRelease: string;
    try {
      // Later versions keep HELLO's layout as far as we know; if not, the release stays unnamed.
      peerRelease = ` (Backhaul ${decodeHello(payload).softwareVersion})`;
    } catch {
      peerRelease = "";
    }
    return new LinkError(
      "VERSION_MISMATCH",
      `link protocol version mismatch: this side (Backhaul ${this.softwareVersion}) speaks version ` +
        `${PROTOCOL_VERSION}, the other side${peerRelease} speaks version ${peerVersion}: ` +
        "install the same Backhaul release on both sides",
    );
  }

  private receivePeerError(payload: Buffer): void {
    const report = this.decodeOrDrop(FrameType.Error, payload, decodeErrorPayload, false);
    if (report === null) return;
    this.lastPeerError = report;
    this.emit("peerError", report);
  }

  private receiveBye(payload: Buffer): void {
    const reason = decodeBye(payload);
    this.finish({ initiator: "peer", reason, error: null });
  }

  private receivePong(nonce: bigint): void {
    const ping = this.pings.get(nonce);
    if (ping === undefined) return; // late (timed out) or unsolicited: harmless
    this.pings.delete(nonce);
    clearTimeout(ping.timer);
    this.lastRttMs = performance.now() - ping.startedAt;
    ping.resolve(this.lastRttMs);
  }

  // ------------------------------------------------------------------------------------------
  // Closing

  /** Closes the link because of `error`, telling the peer with an ERROR frame when `notifyPeer`. */
  private fail(error: LinkError, initiator: LinkCloseInfo["initiator"], notifyPeer: boolean): void {
    if (this.state === "closed") return;
    const shown = this.withPreamble(error);
    if (notifyPeer && this.stream.writable) {
      const payload = encodeErrorPayload({ code: errorCodeFor(shown.code), message: shown.message });
      this.batcher.addFrame(FrameType.Error, payload, true);
      this.batcher.flush(true);
    }
    this.finish({ initiator, reason: shown.message, error: shown });
  }

  /**
   * During the handshake, a framing error usually means the stream carries something else (a shell
   * message, a login banner): show its first bytes, which say what went wrong better than we can.
   */
  private withPreamble(error: LinkError): LinkError {
    const preamble = this.preamble;
    const framing = ["FRAME_TOO_LARGE", "EMPTY_FRAME", "TRUNCATED_FRAME", "UNEXPECTED_FRAME", "STREAM_ENDED"];
    if (
      this.state !== "handshake" ||
      preamble === null ||
      preamble.length === 0 ||
      !framing.includes(error.code)
    ) {
      return error;
    }
    return new LinkError(error.code, `${error.message}; the stream began with ${printable(preamble)}`, {
      cause: error.cause,
    });
  }

  private finish(info: LinkCloseInfo): void {
    if (this.state === "closed") return;
    const wasHandshake = this.state === "handshake";
    this.state = "closed";
    this.clearHandshakeTimer();
    if (this.keepaliveTimer !== null) clearInterval(this.keepaliveTimer);
    this.batcher.close();
    const closedError =
      info.error ?? new LinkError("LINK_CLOSED", `the link closed${info.reason ? `: ${info.reason}` : ""}`);
    if (wasHandshake) this.rejectReady(closedError);
    for (const ping of this.pings.values()) {
      clearTimeout(ping.timer);
      ping.reject(new LinkError("LINK_CLOSED", "the link closed before the peer answered the ping"));
    }
    this.pings.clear();
    this.shutdownStream();
    this.resolveClosed(info);
    this.emit("close", info);
  }

  /** Ends our side, keeps reading (and ignoring) until the peer ends its side, then destroys. */
  private shutdownStream(): void {
    const stream = this.stream;
    stream.resume();
    if (!stream.writableEnded) stream.end();
    if (stream.destroyed) return;
    // A peer that never ends its side, or never reads our last frames, must not hold the stream.
    const timer = setTimeout(() => stream.destroy(), this.closeTimeoutMs);
    timer.unref();
    stream.once("close", () => clearTimeout(timer));
    if (this.inputEnded) this.destroyStreamWhenFlushed();
  }

  private destroyStreamWhenFlushed(): void {
    const stream = this.stream;
    if (stream.destroyed) return;
    // Destroying before 'finish' would discard the BYE or ERROR still in the write buffer.
    if (stream.writableFinished) stream.destroy();
    else stream.once("finish", () => stream.destroy());
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  private startKeepalive(): void {
    if (this.keepaliveIntervalMs <= 0) return;
    let inFlight = false;
    this.keepaliveTimer = setInterval(() => {
      // While paused we read nothing, PONGs included: not the peer's fault.
      if (inFlight || this.paused) return;
      inFlight = true;
      this.ping(this.keepaliveIntervalMs * 2).then(
        () => {
          inFlight = false;
        },
        (error: unknown) => {
          inFlight = false;
          if (error instanceof LinkError && error.code === "PING_TIMEOUT" && !this.paused) {
            this.fail(
              new LinkError(
                "PING_TIMEOUT",
                `the other side has not answered for ${(this.keepaliveIntervalMs * 2) / 1000} s: ` +
                  "the connection is down or the other side is stuck",
              ),
              "transport",
              false,
            );
          }
        },
      );
    }, this.keepaliveIntervalMs);
    // Background work: the stream, not the keepalive, decides whether the process stays up.
    this.keepaliveTimer.unref();
  }
}

function asLinkError(error: unknown): LinkError {
  if (error instanceof LinkError) return error;
  // Decoders throw only LinkError (the tests fuzz them); this keeps a future slip from crashing.
  const message = error instanceof Error ? error.message : String(error);
  return new LinkError("MALFORMED_PAYLOAD", `malformed frame from the peer: ${message}`, { cause: error });
}

/** Bytes shown as text, with anything unprintable escaped. */
function printable(bytes: Buffer): string {
  let text = "";
  for (const byte of bytes) {
    text +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x22
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `"${text}"`;
}
