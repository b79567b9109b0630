/**
 * Messages the engine builds itself: the query it sends upstream, error answers, truncated
 * answers and answers synthesized from getaddrinfo. Each returns a fresh Buffer the caller owns.
 */
import { CLASS_IN, EDNS_DO, Flag, HEADER_BYTES, RecordType } from "./wire.js";

/** The payload size we advertise and accept over UDP: DNS Flag Day 2020's 1232 avoids fragmentation. */
export const UDP_PAYLOAD_SIZE = 1232;
/** Without EDNS, a UDP answer is at most 512 bytes (RFC 1035 §4.2.1). */
export const CLASSIC_UDP_LIMIT = 512;
const OPT_BYTES = 11;

export interface QuestionParts {
  /** The uncompressed wire name. */
  name: Buffer;
  type: number;
  klass: number;
}

export interface EdnsRequest {
  udpPayloadSize: number;
  dnssecOk: boolean;
}

function writeHeader(
  buffer: Buffer,
  id: number,
  flags: number,
  counts: [qd: number, an: number, ns: number, ar: number],
): void {
  buffer.writeUInt16BE(id, 0);
  buffer.writeUInt16BE(flags, 2);
  counts.forEach((count, index) => buffer.writeUInt16BE(count, 4 + index * 2));
}

function writeQuestion(buffer: Buffer, offset: number, question: QuestionParts): number {
  question.name.copy(buffer, offset);
  let at = offset + question.name.length;
  buffer.writeUInt16BE(question.type, at);
  buffer.writeUInt16BE(question.klass, at + 2);
  at += 4;
  return at;
}

/** An OPT pseudo-record (RFC 6891 §6.1.2) with no options. */
function writeOpt(
  buffer: Buffer,
  offset: number,
  options: { dnssecOk: boolean; extendedRcode?: number },
): number {
  buffer[offset] = 0;
  buffer.writeUInt16BE(RecordType.OPT, offset + 1);
  buffer.writeUInt16BE(UDP_PAYLOAD_SIZE, offset + 3);
  buffer[offset + 5] = options.extendedRcode ?? 0;
  buffer[offset + 6] = 0;
  buffer.writeUInt16BE(options.dnssecOk ? EDNS_DO : 0, offset + 7);
  buffer.writeUInt16BE(0, offset + 9);
  return offset + OPT_BYTES;
}

export function optBytes(options: { dnssecOk: boolean }): Buffer {
  const opt = Buffer.alloc(OPT_BYTES);
  writeOpt(opt, 0, options);
  return opt;
}

/**
 * The query sent to a resolver of this computer. It carries none of the remote's EDNS options
 * (cookies, client subnet): its answer depends only on the question and the DO and CD bits, so
 * it can be shared by every remote query with the same cache key.
 */
export function buildUpstreamQuery(
  question: QuestionParts,
  id: number,
  options: { edns: boolean; dnssecOk: boolean; checkingDisabled: boolean },
): Buffer {
  const length = HEADER_BYTES + question.name.length + 4 + (options.edns ? OPT_BYTES : 0);
  const buffer = Buffer.alloc(length);
  const flags = Flag.RD | (options.checkingDisabled ? Flag.CD : 0);
  writeHeader(buffer, id, flags, [1, 0, 0, options.edns ? 1 : 0]);
  const at = writeQuestion(buffer, HEADER_BYTES, question);
  if (options.edns) writeOpt(buffer, at, { dnssecOk: options.dnssecOk });
  return buffer;
}

/** Response flags for an answer the engine makes: QR, RA, and the query's opcode, RD and CD. */
export function responseFlags(queryFlags: number, rcode: number, truncated = false): number {
  const echoed = queryFlags & (0x7800 | Flag.RD | Flag.CD);
  return Flag.QR | Flag.RA | echoed | (truncated ? Flag.TC : 0) | (rcode & 0xf);
}

export interface ErrorResponseOptions {
  id: number;
  queryFlags: number;
  /** RCODEs above 15 go into the OPT record's upper bits (RFC 6891 §6.1.3), e.g. BADVERS = 16. */
  rcode: number;
  question?: QuestionParts;
  /** Present when the query carried a usable OPT record: the answer must carry one too. */
  edns?: EdnsRequest | null;
  truncated?: boolean;
}

/** An answer with no records: errors, and the empty TC=1 answer that sends a client to TCP. */
export function buildEmptyResponse(options: ErrorResponseOptions): Buffer {
  const { question, edns } = options;
  const length = HEADER_BYTES + (question ? question.name.length + 4 : 0) + (edns ? OPT_BYTES : 0);
  const buffer = Buffer.alloc(length);
  const flags = responseFlags(options.queryFlags, options.rcode, options.truncated);
  writeHeader(buffer, options.id, flags, [question ? 1 : 0, 0, 0, edns ? 1 : 0]);
  let at = HEADER_BYTES;
  if (question) at = writeQuestion(buffer, at, question);
  if (edns) writeOpt(buffer, at, { dnssecOk: edns.dnssecOk, extendedRcode: options.rcode >> 4 });
  return buffer;
}

/**
 * A NOERROR answer holding the given addresses (4 or 16 bytes each) for the question, with id 0:
 * the engine stamps the remote's id when it answers. Names are compressed to the question's.
 */
export function buildAddressAnswer(
  question: QuestionParts,
  addresses: readonly Buffer[],
  ttl: number,
): Buffer {
  const recordBytes = addresses.reduce((sum, address) => sum + 12 + address.length, 0);
  const buffer = Buffer.alloc(HEADER_BYTES + question.name.length + 4 + recordBytes);
  writeHeader(buffer, 0, Flag.QR | Flag.RD | Flag.RA, [1, addresses.length, 0, 0]);
  let at = writeQuestion(buffer, HEADER_BYTES, question);
  for (const address of addresses) {
    buffer.writeUInt16BE(0xc000 | HEADER_BYTES, at);
    buffer.writeUInt16BE(question.type, at + 2);
    buffer.writeUInt16BE(CLASS_IN, at + 4);
    buffer.writeUInt32BE(ttl, at + 6);
    buffer.writeUInt16BE(address.length, at + 10);
    address.copy(buffer, at + 12);
    at += 12 + address.length;
  }
  return buffer;
}
