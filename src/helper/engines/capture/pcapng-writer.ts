/**
 * Writes the packets of one session as pcapng (Wireshark, tcpshark, tcpdump read it) into any
 * Node Writable: a file in tests, the capture connection to main in the helper. Never blocks the
 * packet path: blocks are gathered in a slab and written once per event-loop turn; while the
 * sink holds more than `maxPendingBytes` unwritten, packets are dropped and counted instead.
 *
 * Bounded: the file never grows past `maxBytes`. When the next block would not fit, the writer
 * stops: it writes what it holds (whole blocks only, so the file stays readable), ends the sink
 * and reports "capture stopped at N MB (limit)". A sink that fails (disk full) stops it too.
 *
 * Two interfaces, one per direction, so tools that ignore epb_flags still show it: 0 carries
 * what the remote sent (inbound), 1 what went to the remote (outbound); epb_flags says the same.
 */
import { performance } from "node:perf_hooks";
import type { Writable } from "node:stream";
import {
  enhancedPacketLength,
  interfaceDescription,
  sectionHeader,
  writeEnhancedPacket,
  type CaptureDirection,
} from "./pcapng-blocks.js";

export interface PcapngWriterOptions {
  /** Names the session in the interfaces and comments (e.g. the remote's host name). */
  session: string;
  /** The file's size limit in bytes. */
  maxBytes: number;
  /** Bytes of each packet kept; the rest is cut (the original length is recorded). Default 65535. */
  snapLength?: number;
  /** Unwritten bytes the sink may hold before packets are dropped. Default 4 MiB. */
  maxPendingBytes?: number;
  /** Called once when the writer stops (close, limit, sink error), with the sentence to show. */
  onStop?: (reason: string) => void;
  /** shb_userappl. */
  application?: string;
}

export interface CaptureStats {
  packets: number;
  /** Bytes handed to the sink, headers included. */
  bytes: number;
  /** Packets not recorded because the sink could not keep up. */
  dropped: number;
  /** Why the writer stopped, null while it records. */
  stopped: string | null;
}

const SLAB_BYTES = 256 * 1024;
const DEFAULT_SNAP_LENGTH = 65535;
const DEFAULT_MAX_PENDING_BYTES = 4 * 1024 * 1024;
const INTERFACE_ID: Record<CaptureDirection, number> = { inbound: 0, outbound: 1 };

export class PcapngWriter {
  private readonly stats: CaptureStats = { packets: 0, bytes: 0, dropped: 0, stopped: null };
  private readonly snapLength: number;
  private readonly maxPendingBytes: number;
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  private used = 0;
  private flushScheduled = false;

  constructor(
    private readonly sink: Writable,
    private readonly options: PcapngWriterOptions,
  ) {
    this.snapLength = options.snapLength ?? DEFAULT_SNAP_LENGTH;
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    sink.on("error", (error: NodeJS.ErrnoException) => {
      const why = error.code === "ENOSPC" ? "disk full" : error.message;
      this.stop(`capture stopped at ${megabytes(this.stats.bytes)} MB: ${why}`, false);
    });
    sink.on("close", () =>
      this.stop(`capture stopped at ${megabytes(this.stats.bytes)} MB: its stream closed`, false),
    );
    const { session } = options;
    const header = Buffer.concat([
      sectionHeader(
        options.application ?? "Backhaul",
        `Backhaul session ${session}: the tunnel's IP packets`,
      ),
      interfaceDescription(
        `${session} from remote`,
        `packets the remote sent into the tunnel (session ${session})`,
        "inbound: from the remote to this computer's exit",
        this.snapLength,
      ),
      interfaceDescription(
        `${session} to remote`,
        `packets this computer sent to the remote (session ${session})`,
        "outbound: from this computer's exit to the remote",
        this.snapLength,
      ),
    ]);
    if (header.length > options.maxBytes)
      throw new RangeError(`a capture needs at least ${header.length} bytes`);
    this.append(header.length, (target, at) => header.copy(target, at));
  }

  get counts(): Readonly<CaptureStats> {
    return this.stats;
  }

  get recording(): boolean {
    return this.stats.stopped === null;
  }

  /** Records one packet; the packet is only read during the call. */
  record(direction: CaptureDirection, packet: Uint8Array): void {
    if (this.stats.stopped !== null) return;
    const captured = Math.min(packet.length, this.snapLength);
    const length = enhancedPacketLength(captured);
    if (this.stats.bytes + this.used + length > this.options.maxBytes) {
      this.stop(`capture stopped at ${megabytes(this.options.maxBytes)} MB (limit)`, true);
      return;
    }
    if (this.sink.writableLength > this.maxPendingBytes) {
      this.stats.dropped++;
      return;
    }
    const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const id = INTERFACE_ID[direction];
    this.append(length, (target, at) =>
      writeEnhancedPacket(target, at, id, micros, packet, captured, direction),
    );
    this.stats.packets++;
  }

  /** Writes what is held and ends the sink; the file is complete once the sink finishes. */
  close(why?: string): void {
    const size = `capture stopped at ${megabytes(this.stats.bytes + this.used)} MB`;
    this.stop(why === undefined ? size : `${size}: ${why}`, true);
  }

  private append(length: number, write: (target: Buffer, at: number) => void): void {
    if (this.used + length > this.slab.length) {
      this.flush();
      if (length > this.slab.length) this.slab = Buffer.allocUnsafe(length);
    }
    write(this.slab, this.used);
    this.used += length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Hands the slab's blocks to the sink; the slab then belongs to the sink and a new one is made. */
  private flush(): void {
    if (this.used === 0 || this.sink.destroyed || this.sink.writableEnded) return;
    this.sink.write(this.slab.subarray(0, this.used));
    this.stats.bytes += this.used;
    this.slab = Buffer.allocUnsafe(SLAB_BYTES);
    this.used = 0;
  }

  private stop(reason: string, writeHeld: boolean): void {
    if (this.stats.stopped !== null) return;
    this.stats.stopped = reason;
    if (writeHeld) this.flush();
    this.used = 0;
    // Said before the sink ends: the helper's control line then leaves ahead of the capture's end.
    this.options.onStop?.(reason);
    if (!this.sink.destroyed && !this.sink.writableEnded) this.sink.end();
  }
}

/** Megabytes with one decimal below 10 MB, as captures report their size. */
export function megabytes(bytes: number): string {
  return (bytes / 1_000_000).toFixed(bytes < 10_000_000 ? 1 : 0);
}
