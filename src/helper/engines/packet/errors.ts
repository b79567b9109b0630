/**
 * The one error a packet parser or builder throws. Anything arriving from the link is untrusted,
 * so every length is checked before it is read and a bad packet surfaces as this typed error —
 * never as a RangeError from deep inside Buffer — letting callers count and drop it.
 */
import { CodedError } from "../../../shared/coded-error.js";

export type PacketErrorCode =
  | "truncated" // fewer bytes than a header or length field claims
  | "bad-version" // IP version nibble is not the expected one
  | "bad-header-length" // header length field smaller than the minimum or past the end
  | "bad-length" // a length field inconsistent with the bytes present
  | "bad-option" // a TCP option whose length is malformed
  | "bad-extension-header" // an IPv6 extension header chain we refuse to walk
  | "fragment" // transport parsing asked of a fragment
  | "unsupported" // well-formed but outside what Backhaul handles (e.g. jumbograms)
  | "invalid-spec"; // a builder was given fields that cannot form a packet

export class PacketError extends CodedError<PacketErrorCode> {
  override readonly name = "PacketError";
}
