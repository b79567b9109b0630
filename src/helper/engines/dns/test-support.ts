// Helpers shared by the DNS engine's tests (not a test file itself): queries and answers built with
// dns-packet, and a scripted resolver that needs no sockets.
import {
  decode,
  encode,
  type DecodedPacket,
  type DecodedRecord,
  type EncodableOpt,
  type EncodableRecord,
  type OptRecord,
} from "dns-packet";
import { DnsEngine, type DnsEngineOptions } from "./engine.js";
import type { AddressLookup } from "./os-lookup.js";
import type { Upstream, UpstreamExchange, UpstreamProtocol } from "./upstream.js";
import { UpstreamError, describeUpstream } from "./upstream.js";

export interface QueryOptions {
  id?: number;
  /** dns-packet's type name, or "UNKNOWN_65" for a type it does not name. */
  type?: string;
  klass?: string;
  /** Undefined: no OPT record. */
  edns?: { udpPayloadSize?: number; dnssecOk?: boolean; version?: number };
  checkingDisabled?: boolean;
}

export function makeQuery(name: string, options: QueryOptions = {}): Buffer {
  const additionals: EncodableOpt[] = options.edns
    ? [
        {
          type: "OPT",
          name: ".",
          udpPayloadSize: options.edns.udpPayloadSize ?? 1232,
          ednsVersion: options.edns.version ?? 0,
          flags: options.edns.dnssecOk ? 0x8000 : 0,
        },
      ]
    : [];
  return encode({
    type: "query",
    id: options.id ?? 0x1234,
    flags: 0x0100 | (options.checkingDisabled ? 0x0010 : 0),
    questions: [{ name, type: options.type ?? "A", class: options.klass ?? "IN" }],
    additionals,
  });
}

export interface ScriptedAnswer {
  rcode?: number;
  answers?: EncodableRecord[];
  authorities?: EncodableRecord[];
  /** Set TC=1 (and send the records anyway, as some servers do). */
  truncated?: boolean;
  /** Answer with an OPT record when the query had one (default true). */
  echoOpt?: boolean;
}

/** A response to `query` (its id and question), built with dns-packet. */
export function makeResponse(query: Buffer, answer: ScriptedAnswer): Buffer {
  const decoded = decode(query);
  const hasOpt = decoded.additionals.some((record) => record.type === "OPT");
  const flags = 0x8000 | 0x0100 | 0x0080 | (answer.truncated ? 0x0200 : 0) | (answer.rcode ?? 0);
  return encode({
    type: "response",
    id: decoded.id,
    flags,
    questions: decoded.questions,
    answers: answer.answers ?? [],
    authorities: answer.authorities ?? [],
    additionals: hasOpt && answer.echoOpt !== false ? [{ type: "OPT", name: ".", udpPayloadSize: 4096 }] : [],
  });
}

export function soa(zone: string, ttl: number, minimum: number): EncodableRecord {
  return {
    type: "SOA",
    name: zone,
    ttl,
    data: {
      mname: `ns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum,
    },
  };
}

export interface ExchangeCall {
  query: DecodedPacket;
  upstream: Upstream;
  protocol: UpstreamProtocol;
}

export type Script = (
  call: ExchangeCall,
  raw: Buffer,
) => ScriptedAnswer | Buffer | "timeout" | Promise<ScriptedAnswer | Buffer | "timeout">;

/** An UpstreamExchange that answers from a script and records every call. */
export function scriptedExchange(script: Script): { exchange: UpstreamExchange; calls: ExchangeCall[] } {
  const calls: ExchangeCall[] = [];
  const exchange: UpstreamExchange = async (query, upstream, protocol) => {
    const call = { query: decode(query), upstream, protocol };
    calls.push(call);
    const result = await script(call, query);
    if (result === "timeout")
      throw new UpstreamError("timeout", describeUpstream(upstream, protocol), "scripted timeout");
    return Buffer.isBuffer(result) ? result : makeResponse(query, result);
  };
  return { exchange, calls };
}

export const SERVER_A: Upstream = { address: "198.18.0.53", port: 53 };
export const SERVER_B: Upstream = { address: "2001:db8::53", port: 53 };

/** getaddrinfo that finds nothing, as for a name no resolver knows. */
export const notFoundLookup: AddressLookup = () =>
  Promise.reject(Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }));

/**
 * A DNS engine whose `resolvers` answer from `script` (`calls` records what it asked them) and
 * whose getaddrinfo finds nothing; `options` says what a test changes.
 */
export function scriptedEngine(
  script: Script,
  resolvers: Upstream[],
  options: DnsEngineOptions = {},
): { engine: DnsEngine; calls: ExchangeCall[] } {
  const { exchange, calls } = scriptedExchange(script);
  const engine = new DnsEngine({ resolvers, exchange, lookup: notFoundLookup, ...options });
  return { engine, calls };
}

export function a(name: string, address: string, ttl = 300): EncodableRecord {
  return { type: "A", name, ttl, data: address };
}

export function decodeAnswer(message: Buffer | null): DecodedPacket {
  if (!message) throw new Error("expected an answer, got none");
  return decode(message);
}

/** The header's RCODE and flags as numbers. */
export function rcodeOf(message: Buffer): number {
  return message.readUInt16BE(2) & 0xf;
}

export function isTruncated(message: Buffer): boolean {
  return (message.readUInt16BE(2) & 0x0200) !== 0;
}

/** A decoded record's common fields, whatever its type (OPT has no ttl or data). */
export function plain(record: DecodedRecord | undefined): {
  type?: string;
  name?: string;
  ttl?: number;
  data?: unknown;
} {
  if (!record) return {};
  return "data" in record ? record : { type: record.type, name: record.name };
}

export function optOf(packet: DecodedPacket): OptRecord | undefined {
  return packet.additionals.find(
    (record): record is OptRecord => record.type === "OPT" && "ednsVersion" in record,
  );
}
