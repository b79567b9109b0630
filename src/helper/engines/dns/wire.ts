/**
 * The DNS message format (RFC 1035 §4.1), read in place. The engine forwards answers byte for
 * byte, so it never re-encodes a message it did not build: it only needs where each record's
 * fields are (to age TTLs, find the OPT record, read the SOA minimum) and their presentation for
 * the table. Every read is bounds-checked; a bad message throws WireFormatError, nothing else.
 */

export const HEADER_BYTES = 12;
/** A name on the wire is at most 255 bytes (RFC 1035 §2.3.4). */
export const MAX_NAME_BYTES = 255;

export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

export const RecordType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DNAME: 39,
  OPT: 41,
  SSHFP: 44,
  TLSA: 52,
  SVCB: 64,
  HTTPS: 65,
  IXFR: 251,
  AXFR: 252,
  CAA: 257,
} as const;

export const CLASS_IN = 1;
/** The DO bit in the OPT record's TTL field (RFC 3225). */
export const EDNS_DO = 0x8000;

export class WireFormatError extends Error {
  override readonly name = "WireFormatError";
}

export interface Header {
  id: number;
  /** The whole second 16-bit word: QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE. */
  flags: number;
  opcode: number;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export function readHeader(message: Buffer): Header | undefined {
  if (message.length < HEADER_BYTES) return undefined;
  const flags = message.readUInt16BE(2);
  return {
    id: message.readUInt16BE(0),
    flags,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    qdcount: message.readUInt16BE(4),
    ancount: message.readUInt16BE(6),
    nscount: message.readUInt16BE(8),
    arcount: message.readUInt16BE(10),
  };
}

/** Where a name ends in place (after its last label or its pointer), without following pointers. */
export function skipName(message: Buffer, offset: number): number {
  let at = offset;
  for (;;) {
    const length = byteAt(message, at);
    if (length === 0) return at + 1;
    if ((length & 0xc0) === 0xc0) {
      byteAt(message, at + 1);
      return at + 2;
    }
    if ((length & 0xc0) !== 0) throw new WireFormatError(`unsupported label type 0x${length.toString(16)}`);
    at += 1 + length;
    if (at - offset > MAX_NAME_BYTES) throw new WireFormatError("name longer than 255 bytes");
  }
}

/**
 * A name in presentation form (RFC 4343 escapes, trailing dot), following compression pointers.
 * Pointers must point backwards, so a loop is impossible.
 */
export function readName(message: Buffer, offset: number): string {
  const labels: string[] = [];
  let at = offset;
  let wireLength = 0;
  for (;;) {
    const length = byteAt(message, at);
    if (length === 0) break;
    if ((length & 0xc0) === 0xc0) {
      const target = ((length & 0x3f) << 8) | byteAt(message, at + 1);
      if (target >= at) throw new WireFormatError("compression pointer does not point backwards");
      at = target;
      continue;
    }
    if ((length & 0xc0) !== 0) throw new WireFormatError(`unsupported label type 0x${length.toString(16)}`);
    if (at + 1 + length > message.length) throw new WireFormatError("label runs past the message");
    wireLength += 1 + length;
    if (wireLength + 1 > MAX_NAME_BYTES) throw new WireFormatError("name longer than 255 bytes");
    labels.push(presentLabel(message, at + 1, at + 1 + length));
    at += 1 + length;
  }
  return labels.length === 0 ? "." : `${labels.join(".")}.`;
}

function presentLabel(message: Buffer, start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i++) {
    const byte = message[i] ?? 0;
    if (byte === 0x2e || byte === 0x5c || byte === 0x22 || byte === 0x28 || byte === 0x29 || byte === 0x3b) {
      text += `\\${String.fromCharCode(byte)}`;
    } else if (byte > 0x20 && byte < 0x7f) {
      text += String.fromCharCode(byte);
    } else {
      text += `\\${byte.toString().padStart(3, "0")}`;
    }
  }
  return text;
}

/** Compares two uncompressed wire names, ignoring ASCII case (RFC 4343). */
export function namesEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (asciiLower(a[i] ?? 0) !== asciiLower(b[i] ?? 0)) return false;
  }
  return true;
}

function asciiLower(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}

/** A copy of an uncompressed wire name with ASCII letters lowered. */
export function lowerName(name: Buffer): Buffer {
  const lowered = Buffer.allocUnsafe(name.length);
  for (let i = 0; i < name.length; i++) lowered[i] = asciiLower(name[i] ?? 0);
  return lowered;
}

export interface WireQuestion {
  /** The name's bytes, a view into the message (uncompressed in every sane question). */
  nameStart: number;
  nameEnd: number;
  type: number;
  klass: number;
}

export type Section = "answer" | "authority" | "additional";

export interface WireRecord {
  section: Section;
  /** Where the record (its owner name) starts. */
  start: number;
  type: number;
  /** For OPT this is the requester's UDP payload size. */
  klass: number;
  /** For OPT this is extended RCODE, version and flags (RFC 6891). */
  ttl: number;
  ttlOffset: number;
  rdataOffset: number;
  rdlength: number;
  end: number;
}

export interface WireMessage {
  header: Header;
  questions: WireQuestion[];
  records: WireRecord[];
  /** Where the last record ends; trailing bytes after it are ignored, as most resolvers do. */
  end: number;
}

/** Walks every section of a message; throws WireFormatError if any record runs past the end. */
export function parseMessage(message: Buffer): WireMessage {
  const header = readHeader(message);
  if (!header) throw new WireFormatError(`message of ${message.length} bytes is shorter than a header`);
  let at = HEADER_BYTES;
  const questions: WireQuestion[] = [];
  for (let i = 0; i < header.qdcount; i++) {
    const nameEnd = skipName(message, at);
    if (nameEnd + 4 > message.length) throw new WireFormatError("question runs past the message");
    questions.push({
      nameStart: at,
      nameEnd,
      type: message.readUInt16BE(nameEnd),
      klass: message.readUInt16BE(nameEnd + 2),
    });
    at = nameEnd + 4;
  }
  const records: WireRecord[] = [];
  const sections: [Section, number][] = [
    ["answer", header.ancount],
    ["authority", header.nscount],
    ["additional", header.arcount],
  ];
  for (const [section, count] of sections) {
    for (let i = 0; i < count; i++) {
      const record = readRecord(message, at, section);
      records.push(record);
      at = record.end;
    }
  }
  return { header, questions, records, end: at };
}

function readRecord(message: Buffer, start: number, section: Section): WireRecord {
  const nameEnd = skipName(message, start);
  if (nameEnd + 10 > message.length) throw new WireFormatError(`${section} record runs past the message`);
  const rdlength = message.readUInt16BE(nameEnd + 8);
  const end = nameEnd + 10 + rdlength;
  if (end > message.length) throw new WireFormatError(`${section} record data runs past the message`);
  return {
    section,
    start,
    type: message.readUInt16BE(nameEnd),
    klass: message.readUInt16BE(nameEnd + 2),
    ttl: message.readUInt32BE(nameEnd + 4),
    ttlOffset: nameEnd + 4,
    rdataOffset: nameEnd + 10,
    rdlength,
    end,
  };
}

function byteAt(message: Buffer, offset: number): number {
  const byte = message[offset];
  if (byte === undefined) throw new WireFormatError("name runs past the message");
  return byte;
}
