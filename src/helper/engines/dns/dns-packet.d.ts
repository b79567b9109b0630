// The part of dns-packet (5.x) that Backhaul uses, typed: the package ships no types and
// @types/dns-packet is not a dependency. Decoded record data stays `unknown`: the engine only reads
// questions and the OPT record, and presents answers from the wire itself (see present.ts).
declare module "dns-packet" {
  export interface Question {
    name: string;
    /** "A", "AAAA"... or "UNKNOWN_65" for a type dns-packet has no name for. */
    type: string;
    class?: string;
  }

  export interface EdnsOption {
    code: number | string;
    data?: Buffer;
  }

  export interface OptRecord {
    type: "OPT";
    name: string;
    udpPayloadSize: number;
    extendedRcode: number;
    ednsVersion: number;
    flags: number;
    flag_do: boolean;
    options: EdnsOption[];
  }

  export interface OtherRecord {
    type: string;
    name: string;
    class?: string;
    ttl?: number;
    data: unknown;
  }

  export type DecodedRecord = OptRecord | OtherRecord;

  export interface DecodedPacket {
    id: number;
    type: "query" | "response";
    flags: number;
    opcode: string;
    rcode: string;
    questions: Question[];
    answers: DecodedRecord[];
    authorities: DecodedRecord[];
    additionals: DecodedRecord[];
  }

  /** Throws on a truncated or inconsistent message. */
  export function decode(buffer: Buffer, offset?: number): DecodedPacket;

  export interface EncodableOpt {
    type: "OPT";
    name: ".";
    udpPayloadSize?: number;
    extendedRcode?: number;
    ednsVersion?: number;
    flags?: number;
    options?: EdnsOption[];
  }

  export interface EncodableRecord {
    type: string;
    name: string;
    class?: string;
    ttl?: number;
    data: unknown;
  }

  export interface EncodablePacket {
    type?: "query" | "response";
    id?: number;
    flags?: number;
    questions?: Question[];
    answers?: EncodableRecord[];
    authorities?: EncodableRecord[];
    additionals?: (EncodableRecord | EncodableOpt)[];
  }

  export function encode(packet: EncodablePacket): Buffer;

  export const RECURSION_DESIRED: number;
  export const RECURSION_AVAILABLE: number;
  export const TRUNCATED_RESPONSE: number;
  export const AUTHORITATIVE_ANSWER: number;
  export const CHECKING_DISABLED: number;
  export const DNSSEC_OK: number;
}
