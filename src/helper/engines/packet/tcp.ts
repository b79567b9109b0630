import { sumVerifies, sumWords } from "./checksum.js";
import { IpProtocol, TCP_HEADER_LENGTH, TcpFlag } from "./constants.js";
import { PacketError } from "./errors.js";
import type { IpView } from "./ip.js";

const OPT_END = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WINDOW_SCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMP = 8;

export interface SackBlock {
  readonly left: number;
  readonly right: number;
}

export interface TcpTimestamp {
  readonly value: number;
  readonly echo: number;
}

/** The TCP options Backhaul negotiates (RFC 9293 MSS, RFC 7323 window scale and timestamps, RFC 2018 SACK). */
export interface TcpOptions {
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  sackBlocks?: readonly SackBlock[];
  timestamp?: TcpTimestamp;
}

/**
 * A checked view over a TCP segment: the bytes of the IP payload. Options are parsed on demand
 * (`options()`), since most segments of a bulk flow are only read for ports, numbers and flags.
 */
export class TcpView {
  private constructor(
    readonly buf: Buffer,
    readonly headerLength: number,
  ) {}

  static parse(segment: Buffer): TcpView {
    if (segment.length < TCP_HEADER_LENGTH) {
      throw new PacketError("truncated", `TCP segment of ${segment.length} bytes is shorter than its header`);
    }
    const headerLength = (segment[12]! >> 4) * 4;
    if (headerLength < TCP_HEADER_LENGTH || headerLength > segment.length) {
      throw new PacketError("bad-header-length", `TCP data offset ${headerLength} is invalid`);
    }
    return new TcpView(segment, headerLength);
  }

  get srcPort(): number {
    return this.buf.readUInt16BE(0);
  }
  get dstPort(): number {
    return this.buf.readUInt16BE(2);
  }
  get seq(): number {
    return this.buf.readUInt32BE(4);
  }
  get ack(): number {
    return this.buf.readUInt32BE(8);
  }
  /** The eight flag bits of byte 13 (see TcpFlag). */
  get flags(): number {
    return this.buf[13]!;
  }
  get fin(): boolean {
    return (this.buf[13]! & TcpFlag.FIN) !== 0;
  }
  get syn(): boolean {
    return (this.buf[13]! & TcpFlag.SYN) !== 0;
  }
  get rst(): boolean {
    return (this.buf[13]! & TcpFlag.RST) !== 0;
  }
  get psh(): boolean {
    return (this.buf[13]! & TcpFlag.PSH) !== 0;
  }
  get hasAck(): boolean {
    return (this.buf[13]! & TcpFlag.ACK) !== 0;
  }
  get window(): number {
    return this.buf.readUInt16BE(14);
  }
  get checksum(): number {
    return this.buf.readUInt16BE(16);
  }
  get urgentPointer(): number {
    return this.buf.readUInt16BE(18);
  }
  get optionBytes(): Buffer {
    return this.buf.subarray(TCP_HEADER_LENGTH, this.headerLength);
  }
  get payload(): Buffer {
    return this.buf.subarray(this.headerLength);
  }

  /** Parses the options; an option whose length is malformed is a PacketError("bad-option"). */
  options(): TcpOptions {
    return parseTcpOptions(this.buf, TCP_HEADER_LENGTH, this.headerLength);
  }

  verifyChecksum(ip: IpView): boolean {
    return sumVerifies(
      sumWords(this.buf, 0, this.buf.length, ip.pseudoHeaderSum(IpProtocol.TCP, this.buf.length)),
    );
  }
}

function parseTcpOptions(buf: Buffer, start: number, end: number): TcpOptions {
  const options: TcpOptions = {};
  let i = start;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === OPT_END) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) throw new PacketError("bad-option", `TCP option ${kind} has no length byte`);
    const length = buf[i + 1]!;
    if (length < 2 || i + length > end) {
      throw new PacketError("bad-option", `TCP option ${kind} has invalid length ${length}`);
    }
    switch (kind) {
      case OPT_MSS:
        expectLength(kind, length, 4);
        options.mss = buf.readUInt16BE(i + 2);
        break;
      case OPT_WINDOW_SCALE:
        expectLength(kind, length, 3);
        options.windowScale = buf[i + 2]!;
        break;
      case OPT_SACK_PERMITTED:
        expectLength(kind, length, 2);
        options.sackPermitted = true;
        break;
      case OPT_SACK: {
        if ((length - 2) % 8 !== 0 || length === 2) {
          throw new PacketError("bad-option", `TCP SACK option has invalid length ${length}`);
        }
        const blocks: SackBlock[] = [];
        for (let b = i + 2; b < i + length; b += 8) {
          blocks.push({ left: buf.readUInt32BE(b), right: buf.readUInt32BE(b + 4) });
        }
        options.sackBlocks = blocks;
        break;
      }
      case OPT_TIMESTAMP:
        expectLength(kind, length, 10);
        options.timestamp = { value: buf.readUInt32BE(i + 2), echo: buf.readUInt32BE(i + 6) };
        break;
      default:
        // Unknown options are skipped by their length, as RFC 9293 requires.
        break;
    }
    i += length;
  }
  return options;
}

function expectLength(kind: number, length: number, expected: number): void {
  if (length !== expected) {
    throw new PacketError("bad-option", `TCP option ${kind} has length ${length}, expected ${expected}`);
  }
}

/** Bytes the options take on the wire, padded to a multiple of four. */
export function tcpOptionsLength(options: TcpOptions | undefined): number {
  if (!options) return 0;
  let length = 0;
  if (options.mss !== undefined) length += 4;
  if (options.windowScale !== undefined) length += 3;
  if (options.sackPermitted) length += 2;
  if (options.timestamp) length += 10;
  if (options.sackBlocks && options.sackBlocks.length > 0) length += 2 + 8 * options.sackBlocks.length;
  return (length + 3) & ~3;
}

/**
 * Writes options at `offset`, padding with NOPs to `paddedLength`. Order follows what Linux
 * emits (MSS, SACK-permitted, timestamps, window scale, SACK) so captures look familiar.
 */
export function writeTcpOptions(
  out: Buffer,
  offset: number,
  options: TcpOptions,
  paddedLength: number,
): void {
  let i = offset;
  if (options.mss !== undefined) {
    out[i++] = OPT_MSS;
    out[i++] = 4;
    out.writeUInt16BE(options.mss, i);
    i += 2;
  }
  if (options.sackPermitted) {
    out[i++] = OPT_SACK_PERMITTED;
    out[i++] = 2;
  }
  if (options.timestamp) {
    out[i++] = OPT_TIMESTAMP;
    out[i++] = 10;
    out.writeUInt32BE(options.timestamp.value >>> 0, i);
    out.writeUInt32BE(options.timestamp.echo >>> 0, i + 4);
    i += 8;
  }
  if (options.windowScale !== undefined) {
    out[i++] = OPT_WINDOW_SCALE;
    out[i++] = 3;
    out[i++] = options.windowScale;
  }
  if (options.sackBlocks && options.sackBlocks.length > 0) {
    out[i++] = OPT_SACK;
    out[i++] = 2 + 8 * options.sackBlocks.length;
    for (const block of options.sackBlocks) {
      out.writeUInt32BE(block.left >>> 0, i);
      out.writeUInt32BE(block.right >>> 0, i + 4);
      i += 8;
    }
  }
  out.fill(OPT_NOP, i, offset + paddedLength);
}
