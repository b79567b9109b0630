/**
 * Reads a query from the remote. The remote is the less trusted side: anything that is not one
 * well-formed standard query is answered with an error when its header can be read, and dropped
 * when it cannot, or when it is itself a response (answering responses invites loops).
 *
 * Read in place (wire.ts), not decoded into objects: this runs once per query, and a few dozen
 * queries never warm a general decoder up — dns-packet's decode was the largest part of a cached
 * answer's time in the engine (issue 17).
 */
import { buildEmptyResponse, type EdnsRequest, type QuestionParts } from "./messages.js";
import {
  Flag,
  HEADER_BYTES,
  MAX_NAME_BYTES,
  parseMessage,
  RecordType,
  readHeader,
  Rcode,
  EDNS_DO,
  WireFormatError,
  type Header,
  type WireMessage,
  type WireRecord,
} from "./wire.js";

export interface DnsQuery extends QuestionParts {
  id: number;
  /** The header's flag word as received. */
  flags: number;
  /** The question name as sent (its case kept: some stubs randomize it), a copy owned by the query. */
  name: Buffer;
  /** Null when the query carried no OPT record. */
  edns: EdnsRequest | null;
  checkingDisabled: boolean;
}

/** RCODE 16: the query's EDNS version is one we do not speak (RFC 6891 §6.1.3). */
export const BADVERS = 16;

export type ParsedQuery =
  | { kind: "query"; query: DnsQuery }
  /** Answered with an error RCODE; `query` is there when the question was readable. */
  | { kind: "reject"; rcode: number; reason: string; response: Buffer; query?: DnsQuery }
  | { kind: "drop"; reason: string };

/** Why an OPT record's options (RFC 6891 §6.1.2: code, length, data, back to back) do not fill its data exactly; null if they do. */
function optionsError(message: Buffer, opt: WireRecord): string | null {
  let at = opt.rdataOffset;
  const end = opt.rdataOffset + opt.rdlength;
  while (at < end) {
    if (at + 4 > end) return "an EDNS option header runs past the OPT record";
    at += 4 + message.readUInt16BE(at + 2);
    if (at > end) return "an EDNS option runs past the OPT record";
  }
  return null;
}

/** The end of an uncompressed name at `offset`, or undefined if it is compressed or malformed. */
function plainNameEnd(message: Buffer, offset: number): number | undefined {
  let at = offset;
  for (;;) {
    const length = message[at];
    if (length === undefined || (length & 0xc0) !== 0) return undefined;
    at += 1 + length;
    if (at - offset > MAX_NAME_BYTES) return undefined;
    if (length === 0) return at;
  }
}

/** An answer with no records to `query`: its id, flags, question and OPT echoed (buildEmptyResponse). */
export function emptyAnswerTo(query: DnsQuery, rcode: number, truncated = false): Buffer {
  return buildEmptyResponse({
    id: query.id,
    queryFlags: query.flags,
    rcode,
    question: query,
    edns: query.edns,
    truncated,
  });
}

function reject(header: Header, rcode: number, reason: string, query?: DnsQuery): ParsedQuery {
  const response = buildEmptyResponse({
    id: header.id,
    queryFlags: header.flags,
    rcode,
    question: query,
    edns: query?.edns,
  });
  return { kind: "reject", rcode, reason, response, query };
}

export function parseQuery(message: Buffer): ParsedQuery {
  const header = readHeader(message);
  if (!header) return { kind: "drop", reason: `${message.length} bytes is shorter than a DNS header` };
  if (header.flags & Flag.QR) return { kind: "drop", reason: "a response, not a query" };

  // Each question takes at least 5 bytes and each record 11: counts that cannot fit are refused
  // before the walk is asked for up to 4 × 65,535 entries.
  const minimumLength =
    HEADER_BYTES + header.qdcount * 5 + (header.ancount + header.nscount + header.arcount) * 11;
  if (minimumLength > message.length) {
    return reject(header, Rcode.FORMERR, "the section counts do not fit the message");
  }
  let parsed: WireMessage;
  try {
    parsed = parseMessage(message);
  } catch (error) {
    if (!(error instanceof WireFormatError)) throw error;
    return reject(header, Rcode.FORMERR, `unreadable query: ${error.message}`);
  }
  if (header.qdcount !== 1) {
    return reject(header, Rcode.FORMERR, `${header.qdcount} questions; a query has exactly one`);
  }
  const nameEnd = plainNameEnd(message, HEADER_BYTES);
  if (nameEnd === undefined || nameEnd + 4 > message.length) {
    return reject(header, Rcode.FORMERR, "the question name is compressed or malformed");
  }
  const opts = parsed.records.filter(
    (record) => record.section === "additional" && record.type === RecordType.OPT,
  );
  if (opts.length > 1) return reject(header, Rcode.FORMERR, `${opts.length} OPT records; at most one`);
  const opt = opts[0];
  // RFC 6891 §6.1.2: the owner is the root, a single zero byte.
  if (opt && message[opt.start] !== 0)
    return reject(header, Rcode.FORMERR, "the OPT record is not owned by the root");
  const badOptions = opt ? optionsError(message, opt) : null;
  if (badOptions !== null) return reject(header, Rcode.FORMERR, badOptions);

  const query: DnsQuery = {
    id: header.id,
    flags: header.flags,
    name: Buffer.from(message.subarray(HEADER_BYTES, nameEnd)),
    type: message.readUInt16BE(nameEnd),
    klass: message.readUInt16BE(nameEnd + 2),
    // OPT's class is the payload size; its TTL is extended RCODE, version, DO and zero bits.
    edns: opt ? { udpPayloadSize: opt.klass, dnssecOk: (opt.ttl & EDNS_DO) !== 0 } : null,
    checkingDisabled: (header.flags & Flag.CD) !== 0,
  };
  if (header.opcode !== 0) {
    return reject(header, Rcode.NOTIMP, `opcode ${header.opcode}; only standard queries are answered`, query);
  }
  const ednsVersion = opt ? (opt.ttl >>> 16) & 0xff : 0;
  if (ednsVersion > 0) {
    return reject(header, BADVERS, `EDNS version ${ednsVersion}; only version 0 is spoken`, query);
  }
  if (query.type === RecordType.OPT) return reject(header, Rcode.FORMERR, "a question for type OPT", query);
  if (query.type === RecordType.AXFR || query.type === RecordType.IXFR) {
    return reject(header, Rcode.NOTIMP, "zone transfers are not forwarded", query);
  }
  return { kind: "query", query };
}
