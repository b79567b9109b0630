/**
 * The exit's side of link streams: each STREAM_OPEN becomes a TCP flow of the link's entrance
 * address, checked and limited exactly as a SYN from it would be (egress-policy.ts, the TCP flow
 * limit it shares with tcp/forwarder.ts), its name resolved by the DNS engine (so the lookup is a
 * row of the DNS table), dialled with a real socket, and shown as a "tcp" row of the NAT table.
 *
 * Nothing the entrance sends can stop the exit: frames are dispatched inside a guard that counts
 * a bug, resets only that stream and goes on (as engine.ts contains a packet's handling).
 *
 * A name's addresses that the policy allows are dialled in turn (IPv4 first, as the lookup gives
 * them) until one accepts, within the connect timeout; an open stream idle for a TCP flow's idle
 * limit is reset (exit-stream.ts).
 */
import { parseAddress } from "../../../shared/ip-prefix.js";
import type { LinkError } from "../../../shared/link-protocol.js";
import { STREAM_INITIAL_CREDIT, StreamStatus, type StreamTarget } from "../../../shared/link-streams.js";
import type { StreamFrame } from "../../../shared/stream-frames.js";
import type { NameResolver } from "../dns/name-lookup.js";
import { LinkRoom } from "../link-room.js";
import type { Link, StreamFrameHandler } from "../link/link.js";
import { StreamRoom } from "../link/stream-credit.js";
import type { EgressPolicy } from "./egress-policy.js";
import { ExitStream, type StreamIdleLimits } from "./exit-stream.js";
import type { FlowTable } from "./flow-table.js";
import { hostPort } from "./format.js";
import type { MemoryBudget } from "./memory-budget.js";

export interface StreamForwarderOptions {
  link: Link;
  table: FlowTable;
  policy: EgressPolicy;
  /** Names go here; without it, an open by name is refused NameNotFound. */
  resolve: NameResolver | undefined;
  /** The entrance's address on the link subnet: the "remote" of every stream's row. */
  entranceAddress: string;
  /** For all of a name's addresses together. */
  connectTimeoutMs: number;
  /** When an open stream with no traffic is reset: the TCP flows' limits. */
  idle: StreamIdleLimits;
  /**
   * The engine's buffer budget: each stream reserves its receive window from it (at least the
   * initial credit), since the entrance may send that much whether the destination reads or not.
   */
  budget: MemoryBudget;
  /**
   * Each stream's receive window (the bytes it may hold for a destination that reads slowly),
   * when the budget has room for it; else STREAM_INITIAL_CREDIT.
   */
  windowBytes: number;
  /** Whether one more TCP flow fits the engine's limit (TCP flows and streams together). */
  flowSlotFree: () => boolean;
  /** Most streams resolving or dialling at once; opens beyond it are reset TooManyStreams. */
  maxDialing: number;
  internalError: (error: unknown) => void;
}

export interface StreamForwarderCounters {
  opens: number;
  opened: number;
  /** Opens refused by the egress policy or for port 0. */
  refused: number;
  overLimit: number;
  /** Frames for ids that are not open, second OPENs, data past credit: answered with RESET. */
  protocolErrors: number;
  /** CREDIT for ids no longer open: harmless, see dispatch. */
  lateCredits: number;
  malformedFrames: number;
  /** A name's next address dialled after the one before failed. */
  dialRetries: number;
  /** Open streams reset for idleness (the TCP flows' idle limits). */
  idleTimeouts: number;
}

export class StreamForwarder implements StreamFrameHandler {
  readonly counters: StreamForwarderCounters = {
    opens: 0,
    opened: 0,
    refused: 0,
    overLimit: 0,
    protocolErrors: 0,
    lateCredits: 0,
    malformedFrames: 0,
    dialRetries: 0,
    idleTimeouts: 0,
  };
  private readonly streams = new Map<number, ExitStream>();
  private readonly room: StreamRoom;
  private dialing = 0;
  private closed = false;

  constructor(private readonly options: StreamForwarderOptions) {
    this.room = new StreamRoom(new LinkRoom(options.link));
    options.link.setStreamHandler(this, "there");
    options.link.once("close", (info) => this.close(`link closed: ${info.reason || "bye"}`));
  }

  /** Streams open, resolving or dialling: each counts as one TCP flow. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Bytes all streams hold in this process (bounded by their credit: see exit-stream.ts). */
  get bufferedBytes(): number {
    let total = 0;
    for (const stream of this.streams.values()) total += stream.bufferedBytes;
    return total;
  }

  // ---- StreamFrameHandler ----

  frame(frame: StreamFrame): void {
    if (this.closed) return;
    try {
      this.dispatch(frame);
    } catch (error) {
      this.options.internalError(error);
      this.contained(() => this.streams.get(frame.id)?.abort(StreamStatus.GeneralFailure, "internal error"));
    }
  }

  /** A STREAM_DATA split across the link's reads: joined once, by the stream's own copy. */
  dataParts(id: number, parts: readonly Buffer[], length: number): void {
    if (this.closed) return;
    try {
      const stream = this.streams.get(id);
      if (stream) stream.receiveData(parts, length);
      else this.resetId(id, StreamStatus.ProtocolError, "");
    } catch (error) {
      this.options.internalError(error);
      this.contained(() => this.streams.get(id)?.abort(StreamStatus.GeneralFailure, "internal error"));
    }
  }

  malformed(id: number | null, _error: LinkError): void {
    this.counters.malformedFrames++;
    if (id === null || this.closed) return;
    this.contained(() => this.resetId(id, StreamStatus.ProtocolError, "a malformed frame from the remote"));
  }

  /**
   * Resets the streams whose socket dials or holds an address `matches` (access to this computer
   * was switched off): RESET NotAllowed to the entrance, an RST to the socket. Returns how many.
   */
  resetStreamsTo(matches: (address: Uint8Array) => boolean, reason: string): number {
    let count = 0;
    for (const stream of [...this.streams.values()]) {
      const host = stream.dialedHost;
      const address = host === undefined ? null : parseAddress(host);
      if (address === null || !matches(address.bytes)) continue;
      this.contained(() => stream.abort(StreamStatus.NotAllowed, reason));
      count++;
    }
    return count;
  }

  /** The link is gone: every stream ends, its socket reset. */
  close(reason: string): void {
    this.closed = true;
    for (const stream of [...this.streams.values()]) {
      this.contained(() => stream.abort(StreamStatus.GeneralFailure, reason));
    }
  }

  // ---- inside ----

  private dispatch(frame: StreamFrame): void {
    const stream = this.streams.get(frame.id);
    switch (frame.type) {
      case "open":
        if (stream) this.resetId(frame.id, StreamStatus.ProtocolError, "a second OPEN for an open stream");
        else this.open(frame.id, frame.target);
        return;
      case "data":
        if (stream) stream.receiveData([frame.bytes], frame.bytes.length);
        else this.resetId(frame.id, StreamStatus.ProtocolError, "");
        return;
      case "credit":
        // A CREDIT crosses the stream's end in flight whenever the entrance passes on the last
        // bytes: for an unknown id it is counted, never answered (it could only reset nothing).
        if (stream) stream.receiveCredit(frame.bytes);
        else this.counters.lateCredits++;
        return;
      case "end":
        if (stream) stream.receiveEnd();
        else this.resetId(frame.id, StreamStatus.ProtocolError, "");
        return;
      case "reset":
        // Never answered, even for an unknown id: two sides must not reset each other forever.
        stream?.receiveReset();
        return;
      case "opened":
        // Only the exit answers opens.
        this.resetId(frame.id, StreamStatus.ProtocolError, "");
        return;
    }
  }

  /** Resets the stream of `id` if open (its row says why), and tells the entrance. */
  private resetId(id: number, status: StreamStatus, reason: string): void {
    this.counters.protocolErrors++;
    const stream = this.streams.get(id);
    if (stream) stream.abort(status, reason);
    else this.options.link.sendStreamFrame({ type: "reset", id, status });
  }

  private open(id: number, target: StreamTarget): void {
    const { options, counters } = this;
    counters.opens++;
    const budget = options.budget;
    if (
      !options.flowSlotFree() ||
      this.dialing >= options.maxDialing ||
      budget.usedBytes + STREAM_INITIAL_CREDIT > budget.limitBytes
    ) {
      // No row, no socket: a flood of opens costs one small frame each.
      counters.overLimit++;
      options.link.sendStreamFrame({ type: "reset", id, status: StreamStatus.TooManyStreams });
      return;
    }
    const named = target.kind === "name";
    const row = options.table.add({
      protocol: "tcp",
      family: named ? 4 : target.address.includes(":") ? 6 : 4,
      remote: `${options.entranceAddress} stream ${id}`,
      destination: hostPort(named ? target.name : target.address, target.port),
      // A name that is an address literal names nothing: the table looks the address up.
      name:
        named && parseAddress(target.name) === null
          ? target.name.toLowerCase()
          : options.table.nameOf(named ? target.name : target.address),
      state: named ? "RESOLVING" : "DIALING",
    });
    this.dialing++;
    const window =
      budget.usedBytes + options.windowBytes <= budget.limitBytes
        ? options.windowBytes
        : STREAM_INITIAL_CREDIT;
    budget.adjust(window);
    const stream = new ExitStream(id, row, options.link, this.room, options.table, window, options.idle, {
      gone: (gone) => {
        budget.adjust(-gone.windowBytes);
        if (this.streams.get(gone.id) === gone) this.streams.delete(gone.id);
      },
      dialEnded: () => this.dialing--,
      counted: (what) => this.counters[what]++,
    });
    this.streams.set(id, stream);
    if (target.kind === "address") {
      this.dialAllowed(stream, [target.address], target.port);
      return;
    }
    if (!options.resolve) {
      stream.refuse(StreamStatus.NameNotFound, "this exit resolves no names");
      return;
    }
    options.resolve(target.name).then(
      (lookup) =>
        this.contained(() => {
          if (stream.closed) return;
          if (lookup.kind === "addresses") this.dialAllowed(stream, lookup.addresses, target.port);
          else if (lookup.kind === "not-found")
            stream.refuse(StreamStatus.NameNotFound, "the name does not resolve");
          else
            stream.refuse(StreamStatus.HostUnreachable, `the name could not be resolved: ${lookup.detail}`);
        }),
      (error: unknown) => {
        this.options.internalError(error);
        this.contained(() => stream.refuse(StreamStatus.GeneralFailure, "internal error"));
      },
    );
  }

  /**
   * Dials the addresses the policy allows, in order; when it allows none, refuses as the first
   * address's check says (NotAllowed, as for a refused SYN, or Refused for port 0).
   */
  private dialAllowed(stream: ExitStream, addresses: readonly string[], port: number): void {
    const allowed = addresses.filter((address) => this.check(address, port) === StreamStatus.Ok);
    if (allowed.length === 0) {
      const status = this.check(addresses[0]!, port);
      this.counters.refused++;
      stream.refuse(
        status,
        status === StreamStatus.NotAllowed ? "not allowed by the egress policy" : "port 0",
      );
      return;
    }
    this.counters.opened++;
    stream.dial(
      allowed,
      port,
      this.options.connectTimeoutMs,
      (address) => this.check(address, port) === StreamStatus.Ok,
    );
  }

  /** A SYN's checks: the egress policy, then port 0 (nothing listens there: refused, as an RST). */
  private check(address: string, port: number): StreamStatus {
    const parsed = parseAddress(address);
    if (parsed === null || !this.options.policy.check(parsed.bytes).allowed) return StreamStatus.NotAllowed;
    if (port === 0) return StreamStatus.Refused;
    return StreamStatus.Ok;
  }

  private contained(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.options.internalError(error);
    }
  }
}
