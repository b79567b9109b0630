import { pseudoHeaderSum } from "./checksum.js";
import { IPV6_HEADER_LENGTH } from "./constants.js";
import { PacketError } from "./errors.js";

const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AUTHENTICATION = 51;
const DESTINATION_OPTIONS = 60;
const MOBILITY = 135;
const HIP = 139;
const SHIM6 = 140;

/** More extension headers than this is an attack on the parser, not a real packet. */
const MAX_EXTENSION_HEADERS = 16;

export interface Ipv6Fragment {
  /** Offset in bytes. */
  readonly offset: number;
  readonly moreFragments: boolean;
  readonly identification: number;
}

/**
 * A checked view over an IPv6 packet (RFC 8200) with its extension-header chain walked once:
 * `protocol` is the upper-layer protocol and `payload` its bytes. Jumbograms (RFC 2675) are
 * refused as unsupported: the link MTU never exceeds 65535. The view does not own `buf`.
 */
export class Ipv6View {
  readonly version = 6 as const;

  private constructor(
    /** Exactly the packet: 40 + payloadLength bytes. */
    readonly buf: Buffer,
    /** Upper-layer protocol after the extension headers. */
    readonly protocol: number,
    readonly payloadOffset: number,
    readonly fragment: Ipv6Fragment | undefined,
    /**
     * Where the Next Header field that names `protocol` is: 6 in the fixed header, else the first
     * byte of the last extension header. A parameter problem about `protocol` points here.
     */
    readonly nextHeaderOffset: number,
  ) {}

  static parse(packet: Buffer): Ipv6View {
    if (packet.length < IPV6_HEADER_LENGTH) {
      throw new PacketError("truncated", `IPv6 packet of ${packet.length} bytes is shorter than its header`);
    }
    const version = packet[0]! >> 4;
    if (version !== 6) throw new PacketError("bad-version", `expected IP version 6, found ${version}`);
    const payloadLength = packet.readUInt16BE(4);
    let next = packet[6]!;
    if (payloadLength === 0 && next === HOP_BY_HOP) {
      throw new PacketError("unsupported", "IPv6 jumbograms are not supported");
    }
    const end = IPV6_HEADER_LENGTH + payloadLength;
    if (end > packet.length) {
      throw new PacketError("truncated", `IPv6 payload length ${payloadLength} exceeds the bytes read`);
    }
    const buf = end === packet.length ? packet : packet.subarray(0, end);
    let offset = IPV6_HEADER_LENGTH;
    let nextHeaderOffset = 6;
    let fragment: Ipv6Fragment | undefined;
    for (let count = 0; ; count++) {
      if (!isExtensionHeader(next)) break;
      if (count === MAX_EXTENSION_HEADERS) {
        throw new PacketError(
          "bad-extension-header",
          `more than ${MAX_EXTENSION_HEADERS} IPv6 extension headers`,
        );
      }
      if (next === HOP_BY_HOP && count !== 0) {
        throw new PacketError("bad-extension-header", "IPv6 hop-by-hop options header not first");
      }
      if (offset + 8 > end) throw new PacketError("truncated", "IPv6 extension header runs past the packet");
      const headerNext = buf[offset]!;
      let length: number;
      if (next === FRAGMENT) {
        length = 8;
        const field = buf.readUInt16BE(offset + 2);
        fragment = {
          offset: field & 0xfff8,
          moreFragments: (field & 1) === 1,
          identification: buf.readUInt32BE(offset + 4),
        };
      } else if (next === AUTHENTICATION) {
        length = (buf[offset + 1]! + 2) * 4;
      } else {
        length = (buf[offset + 1]! + 1) * 8;
      }
      if (offset + length > end)
        throw new PacketError("truncated", "IPv6 extension header runs past the packet");
      nextHeaderOffset = offset;
      offset += length;
      next = headerNext;
    }
    return new Ipv6View(buf, next, offset, fragment, nextHeaderOffset);
  }

  get totalLength(): number {
    return this.buf.length;
  }
  get trafficClass(): number {
    return (this.buf.readUInt16BE(0) >> 4) & 0xff;
  }
  get flowLabel(): number {
    return this.buf.readUInt32BE(0) & 0xfffff;
  }
  get payloadLength(): number {
    return this.buf.readUInt16BE(4);
  }
  /** The Next Header field of the fixed header (before any extension header). */
  get nextHeader(): number {
    return this.buf[6]!;
  }
  get hopLimit(): number {
    return this.buf[7]!;
  }
  get src(): Buffer {
    return this.buf.subarray(8, 24);
  }
  get dst(): Buffer {
    return this.buf.subarray(24, 40);
  }
  get payload(): Buffer {
    return this.buf.subarray(this.payloadOffset);
  }
  get isFragment(): boolean {
    return this.fragment !== undefined && (this.fragment.moreFragments || this.fragment.offset !== 0);
  }

  /** IPv6 has no header checksum; present so both IP views answer the same question. */
  verifyHeaderChecksum(): boolean {
    return true;
  }

  pseudoHeaderSum(protocol: number, length: number): number {
    return pseudoHeaderSum(this.src, this.dst, protocol, length);
  }
}

function isExtensionHeader(next: number): boolean {
  return (
    next === HOP_BY_HOP ||
    next === ROUTING ||
    next === FRAGMENT ||
    next === AUTHENTICATION ||
    next === DESTINATION_OPTIONS ||
    next === MOBILITY ||
    next === HIP ||
    next === SHIM6
  );
}
