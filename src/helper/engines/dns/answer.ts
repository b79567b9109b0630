/**
 * An answer ready to be given to any remote query with the same cache key: the message as a
 * resolver sent it (or as the engine synthesized it), where its TTLs and OPT record are, and
 * how long it may be cached. `renderAnswer` fits it to one query: id, question case, aged TTLs,
 * EDNS presence and the transport's size limit.
 */
import { CLASSIC_UDP_LIMIT, optBytes, responseFlags, UDP_PAYLOAD_SIZE } from "./messages.js";
import { presentAnswer } from "./present.js";
import { emptyAnswerTo, type DnsQuery } from "./query.js";
import type { DnsTransport } from "../../../shared/dns-row.js";
import { Flag, HEADER_BYTES, Rcode, RecordType, type WireMessage } from "./wire.js";

export interface CachePolicy {
  /** Positive answers are kept at most this long, whatever their TTL. */
  maxTtlSeconds: number;
  /** NXDOMAIN and NODATA are kept for the SOA minimum (RFC 2308 §5), at most this long. */
  maxNegativeTtlSeconds: number;
}

export interface PreparedAnswer {
  /** Owned by the answer and never written: each client gets a copy. */
  readonly message: Buffer;
  readonly rcode: number;
  readonly truncated: boolean;
  /** Every TTL field but OPT's, with its value as received. */
  readonly ttlFields: readonly { offset: number; ttl: number }[];
  /**
   * Where the OPT record starts, where its payload size (its "class") is, and how many additional
   * records precede it; null without one.
   */
  readonly opt: { start: number; payloadSizeOffset: number; additionalBefore: number } | null;
  /** The answer section for the table. */
  readonly answers: readonly string[];
  /** Seconds the table shows: the smallest answer TTL, or the negative TTL; null when neither. */
  readonly ttl: number | null;
  /** Seconds it may be cached; 0 when it must not be. */
  readonly cacheTtl: number;
}

/**
 * `parsed` must be `received` walked by parseMessage, with the question already checked. The
 * answer keeps its own copy (without any trailing bytes), so `received` stays the caller's.
 */
export function prepareAnswer(received: Buffer, parsed: WireMessage, policy: CachePolicy): PreparedAnswer {
  const message = Buffer.from(received.subarray(0, parsed.end));
  const { header, records } = parsed;
  const question = parsed.questions[0];
  const truncated = (header.flags & Flag.TC) !== 0;
  const ttlFields: { offset: number; ttl: number }[] = [];
  const answers: string[] = [];
  let opt: PreparedAnswer["opt"] = null;
  let additionalIndex = 0;
  let minAnswerTtl: number | null = null;
  let negativeTtl: number | null = null;
  for (const record of records) {
    if (record.type === RecordType.OPT && record.section === "additional") {
      opt ??= {
        start: record.start,
        payloadSizeOffset: record.ttlOffset - 2,
        additionalBefore: additionalIndex,
      };
    } else {
      ttlFields.push({ offset: record.ttlOffset, ttl: record.ttl });
    }
    if (record.section === "additional") additionalIndex++;
    if (record.section === "answer") {
      answers.push(presentAnswer(message, record, question?.type ?? 0));
      minAnswerTtl = Math.min(minAnswerTtl ?? record.ttl, record.ttl);
    }
    if (record.section === "authority" && record.type === RecordType.SOA && record.rdlength >= 20) {
      const minimum = message.readUInt32BE(record.rdataOffset + record.rdlength - 4);
      negativeTtl = Math.min(negativeTtl ?? Infinity, record.ttl, minimum);
    }
  }
  const positive = header.rcode === Rcode.NOERROR && answers.length > 0;
  const negative = header.rcode === Rcode.NXDOMAIN || (header.rcode === Rcode.NOERROR && !positive);
  const ttl = positive ? minAnswerTtl : negative ? negativeTtl : null;
  let cacheTtl = 0;
  if (!truncated && ttl !== null) {
    cacheTtl = Math.min(ttl, positive ? policy.maxTtlSeconds : policy.maxNegativeTtlSeconds);
  }
  return { message, rcode: header.rcode, truncated, ttlFields, opt, answers, ttl, cacheTtl };
}

export interface RenderedAnswer {
  message: Buffer;
  /** True when it did not fit the transport and became an empty TC=1 answer. */
  truncatedForTransport: boolean;
}

/** The most a UDP answer to this query may hold (RFC 6891 §6.2.5, capped at our own size). */
export function udpLimit(query: DnsQuery): number {
  if (!query.edns) return CLASSIC_UDP_LIMIT;
  return Math.max(CLASSIC_UDP_LIMIT, Math.min(query.edns.udpPayloadSize, UDP_PAYLOAD_SIZE));
}

/**
 * A copy of `answer` fitted to `query`: its id, its question name's case, TTLs aged by
 * `ageSeconds`, an OPT record exactly when the query had one, AA cleared (the engine is a
 * resolver, not an authority) and RA set.
 */
export function renderAnswer(
  answer: PreparedAnswer,
  query: DnsQuery,
  ageSeconds: number,
  transport: DnsTransport,
): RenderedAnswer {
  const source = answer.message;
  const keepOpt = query.edns !== null && answer.opt !== null;
  const addOpt = query.edns !== null && answer.opt === null;
  const baseLength = answer.opt && !keepOpt ? answer.opt.start : source.length;
  const extra = addOpt ? optBytes({ dnssecOk: query.edns?.dnssecOk ?? false }) : undefined;
  const limit = transport === "tcp" ? 0xffff : udpLimit(query);
  if (baseLength + (extra?.length ?? 0) > limit) {
    const message = emptyAnswerTo(query, answer.rcode, true);
    return { message, truncatedForTransport: true };
  }

  const message = Buffer.allocUnsafe(baseLength + (extra?.length ?? 0));
  source.copy(message, 0, 0, baseLength);
  message.writeUInt16BE(query.id, 0);
  const upstreamFlags = source.readUInt16BE(2);
  const kept = upstreamFlags & (Flag.TC | Flag.AD | 0xf);
  message.writeUInt16BE(responseFlags(query.flags, 0) | kept, 2);
  query.name.copy(message, HEADER_BYTES);
  for (const { offset, ttl } of answer.ttlFields) {
    if (offset < baseLength) message.writeUInt32BE(Math.max(0, ttl - ageSeconds), offset);
  }
  if (answer.opt && keepOpt) {
    // The OPT's "class" is the sender's payload size: advertise ours, not the upstream's.
    message.writeUInt16BE(UDP_PAYLOAD_SIZE, answer.opt.payloadSizeOffset);
  } else if (answer.opt) {
    // The query had no EDNS: drop the OPT and any additional records after it.
    message.writeUInt16BE(answer.opt.additionalBefore, 10);
  }
  if (extra) {
    extra.copy(message, baseLength);
    message.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  }
  return { message, truncatedForTransport: false };
}
