/**
 * Reads a query from the remote. The remote is the less trusted side: anything that is not one
 * well-formed standard query is answered with an error when its header can be read, and dropped
 * when it cannot, or when it is itself a response (answering responses invites loops).
 */
import { decode, type DecodedRecord, type OptRecord } from "dns-packet";
import { buildEmptyResponse, type EdnsRequest, type QuestionParts } from "./messages.js";
import { Flag, HEADER_BYTES, MAX_NAME_BYTES, RecordType, readHeader, Rcode, type Header } from "./wire.js";

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

function isOpt(record: DecodedRecord): record is OptRecord {
  return record.type === "OPT";
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
  // before dns-packet allocates arrays for up to 4 × 65,535 entries.
  const minimumLength =
    HEADER_BYTES + header.qdcount * 5 + (header.ancount + header.nscount + header.arcount) * 11;
  if (minimumLength > message.length) {
    return reject(header, Rcode.FORMERR, "the section counts do not fit the message");
  }
  let opts: OptRecord[];
  try {
    opts = decode(message).additionals.filter(isOpt);
  } catch (error) {
    return reject(header, Rcode.FORMERR, `unreadable query: ${(error as Error).message}`);
  }
  if (header.qdcount !== 1) {
    return reject(header, Rcode.FORMERR, `${header.qdcount} questions; a query has exactly one`);
  }
  const nameEnd = plainNameEnd(message, HEADER_BYTES);
  if (nameEnd === undefined || nameEnd + 4 > message.length) {
    return reject(header, Rcode.FORMERR, "the question name is compressed or malformed");
  }
  if (opts.length > 1) return reject(header, Rcode.FORMERR, `${opts.length} OPT records; at most one`);
  const opt = opts[0];
  if (opt && opt.name !== ".")
    return reject(header, Rcode.FORMERR, "the OPT record is not owned by the root");

  const query: DnsQuery = {
    id: header.id,
    flags: header.flags,
    name: Buffer.from(message.subarray(HEADER_BYTES, nameEnd)),
    type: message.readUInt16BE(nameEnd),
    klass: message.readUInt16BE(nameEnd + 2),
    edns: opt ? { udpPayloadSize: opt.udpPayloadSize, dnssecOk: opt.flag_do } : null,
    checkingDisabled: (header.flags & Flag.CD) !== 0,
  };
  if (header.opcode !== 0) {
    return reject(header, Rcode.NOTIMP, `opcode ${header.opcode}; only standard queries are answered`, query);
  }
  if (opt && opt.ednsVersion > 0) {
    return reject(header, BADVERS, `EDNS version ${opt.ednsVersion}; only version 0 is spoken`, query);
  }
  if (query.type === RecordType.OPT) return reject(header, Rcode.FORMERR, "a question for type OPT", query);
  if (query.type === RecordType.AXFR || query.type === RecordType.IXFR) {
    return reject(header, Rcode.NOTIMP, "zone transfers are not forwarded", query);
  }
  return { kind: "query", query };
}
