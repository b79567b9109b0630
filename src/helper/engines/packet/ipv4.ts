import { pseudoHeaderSum, sumVerifies, sumWords } from "./checksum.js";
import { IPV4_HEADER_LENGTH } from "./constants.js";
import { PacketError } from "./errors.js";

/**
 * A checked view over an IPv4 packet (RFC 791). `parse` validates every length once; the
 * accessors then read the Buffer directly. The view does not own `buf`: it is a window onto the
 * caller's memory, valid as long as the caller keeps those bytes unchanged.
 */
export class Ipv4View {
  readonly version = 4 as const;

  private constructor(
    /** Exactly the packet: `totalLength` bytes; link-layer padding beyond it is cut off. */
    readonly buf: Buffer,
    readonly headerLength: number,
  ) {}

  static parse(packet: Buffer): Ipv4View {
    if (packet.length < IPV4_HEADER_LENGTH) {
      throw new PacketError("truncated", `IPv4 packet of ${packet.length} bytes is shorter than its header`);
    }
    const version = packet[0]! >> 4;
    if (version !== 4) throw new PacketError("bad-version", `expected IP version 4, found ${version}`);
    const headerLength = (packet[0]! & 0x0f) * 4;
    if (headerLength < IPV4_HEADER_LENGTH || headerLength > packet.length) {
      throw new PacketError("bad-header-length", `IPv4 header length ${headerLength} is invalid`);
    }
    const totalLength = packet.readUInt16BE(2);
    if (totalLength < headerLength) {
      throw new PacketError("bad-length", `IPv4 total length ${totalLength} is less than its header`);
    }
    if (totalLength > packet.length) {
      throw new PacketError(
        "truncated",
        `IPv4 total length ${totalLength} exceeds the ${packet.length} bytes read`,
      );
    }
    return new Ipv4View(
      totalLength === packet.length ? packet : packet.subarray(0, totalLength),
      headerLength,
    );
  }

  get totalLength(): number {
    return this.buf.length;
  }
  get tos(): number {
    return this.buf[1]!;
  }
  get identification(): number {
    return this.buf.readUInt16BE(4);
  }
  get dontFragment(): boolean {
    return (this.buf[6]! & 0x40) !== 0;
  }
  get moreFragments(): boolean {
    return (this.buf[6]! & 0x20) !== 0;
  }
  /** Fragment offset in bytes. */
  get fragmentOffset(): number {
    return (this.buf.readUInt16BE(6) & 0x1fff) * 8;
  }
  get isFragment(): boolean {
    return this.moreFragments || this.fragmentOffset !== 0;
  }
  get ttl(): number {
    return this.buf[8]!;
  }
  /** Same as `ttl`, so IPv4 and IPv6 views share a name. */
  get hopLimit(): number {
    return this.buf[8]!;
  }
  get protocol(): number {
    return this.buf[9]!;
  }
  get headerChecksum(): number {
    return this.buf.readUInt16BE(10);
  }
  get src(): Buffer {
    return this.buf.subarray(12, 16);
  }
  get dst(): Buffer {
    return this.buf.subarray(16, 20);
  }
  get options(): Buffer {
    return this.buf.subarray(IPV4_HEADER_LENGTH, this.headerLength);
  }
  get payloadOffset(): number {
    return this.headerLength;
  }
  get payload(): Buffer {
    return this.buf.subarray(this.headerLength);
  }

  verifyHeaderChecksum(): boolean {
    return sumVerifies(sumWords(this.buf, 0, this.headerLength));
  }

  /** Pseudo-header sum for the upper-layer checksum over `length` bytes of `protocol`. */
  pseudoHeaderSum(protocol: number, length: number): number {
    return pseudoHeaderSum(this.src, this.dst, protocol, length);
  }
}
