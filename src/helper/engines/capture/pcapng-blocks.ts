/**
 * pcapng blocks (draft-ietf-opsawg-pcapng): the Section Header, Interface Description and
 * Enhanced Packet blocks, little-endian, written into a caller's buffer. Only what a capture of
 * raw IP packets needs: LINKTYPE_RAW, microsecond timestamps (the default if_tsresol),
 * opt_comment, if_name, if_description, shb_userappl and epb_flags' direction bits.
 *
 * Not here: other block types (name resolution, statistics, simple packet), big-endian
 * sections, custom options.
 */

export const BlockType = { SectionHeader: 0x0a0d0d0a, InterfaceDescription: 1, EnhancedPacket: 6 } as const;
/** Raw IPv4 or IPv6, told apart by the version nibble (tcpdump's LINKTYPE_RAW). */
export const LINKTYPE_RAW = 101;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const EPB_FLAGS = 2;
/** epb_flags bits 0-1: the packet's direction. */
export const EpbDirection = { inbound: 1, outbound: 2 } as const;
export type CaptureDirection = keyof typeof EpbDirection;

const padded = (length: number): number => (length + 3) & ~3;

interface TextOption {
  code: number;
  value: string;
}

function optionsLength(options: readonly TextOption[]): number {
  let length = 0;
  for (const option of options) length += 4 + padded(Buffer.byteLength(option.value));
  return length + 4; // opt_endofopt
}

function writeOptions(target: Buffer, at: number, options: readonly TextOption[]): number {
  for (const option of options) {
    const length = Buffer.byteLength(option.value);
    target.writeUInt16LE(option.code, at);
    target.writeUInt16LE(length, at + 2);
    target.write(option.value, at + 4, "utf8");
    target.fill(0, at + 4 + length, at + 4 + padded(length));
    at += 4 + padded(length);
  }
  target.writeUInt32LE(OPT_END, at);
  return at + 4;
}

/** Writes a whole block: type, total length, body, options, total length again. */
function block(type: number, body: Buffer, options: readonly TextOption[]): Buffer {
  const total = 8 + body.length + optionsLength(options) + 4;
  const out = Buffer.alloc(total);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(total, 4);
  body.copy(out, 8);
  const end = writeOptions(out, 8 + body.length, options);
  out.writeUInt32LE(total, end);
  return out;
}

/** A section header block: a new section, its length unknown (-1), as a live capture writes. */
export function sectionHeader(application: string, comment: string): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  body.writeUInt16LE(1, 4);
  body.writeUInt16LE(0, 6);
  body.writeBigInt64LE(-1n, 8);
  return block(BlockType.SectionHeader, body, [
    { code: OPT_COMMENT, value: comment },
    { code: SHB_USERAPPL, value: application },
  ]);
}

/** An interface description block for raw IP packets of up to `snapLength` bytes. */
export function interfaceDescription(
  name: string,
  description: string,
  comment: string,
  snapLength: number,
): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(LINKTYPE_RAW, 0);
  body.writeUInt32LE(snapLength, 4);
  return block(BlockType.InterfaceDescription, body, [
    { code: IF_NAME, value: name },
    { code: IF_DESCRIPTION, value: description },
    { code: OPT_COMMENT, value: comment },
  ]);
}

/** EPB header (28) + epb_flags (8) + opt_endofopt (4) + trailing length (4), before the padded data. */
const EPB_OVERHEAD = 28 + 8 + 4 + 4;

export function enhancedPacketLength(capturedLength: number): number {
  return EPB_OVERHEAD + padded(capturedLength);
}

/**
 * Writes an enhanced packet block at target[at], of enhancedPacketLength(captured) bytes, where
 * `captured` is the first `capturedLength` bytes of `packet`. Returns the offset after it.
 */
export function writeEnhancedPacket(
  target: Buffer,
  at: number,
  interfaceId: number,
  timestampMicros: number,
  packet: Uint8Array,
  capturedLength: number,
  direction: CaptureDirection,
): number {
  const total = enhancedPacketLength(capturedLength);
  target.writeUInt32LE(BlockType.EnhancedPacket, at);
  target.writeUInt32LE(total, at + 4);
  target.writeUInt32LE(interfaceId, at + 8);
  target.writeUInt32LE(Math.floor(timestampMicros / 0x1_0000_0000), at + 12);
  target.writeUInt32LE(timestampMicros >>> 0, at + 16);
  target.writeUInt32LE(capturedLength, at + 20);
  target.writeUInt32LE(packet.length, at + 24);
  target.set(packet.subarray(0, capturedLength), at + 28);
  let end = at + 28 + capturedLength;
  const pad = padded(capturedLength) - capturedLength;
  if (pad > 0) target.fill(0, end, end + pad);
  end += pad;
  target.writeUInt16LE(EPB_FLAGS, end);
  target.writeUInt16LE(4, end + 2);
  target.writeUInt32LE(EpbDirection[direction], end + 4);
  target.writeUInt32LE(OPT_END, end + 8);
  target.writeUInt32LE(total, end + 12);
  return end + 16;
}
