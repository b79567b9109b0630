import { formatAddress as formatText, parseAddress as parseText } from "../../../shared/ip-prefix.js";
import { PacketError } from "./errors.js";

/** Text form of a 4- or 16-byte address (shared/ip-prefix.ts: RFC 5952 for IPv6). Not for the hot path. */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length !== 4 && bytes.length !== 16) {
    throw new PacketError("invalid-spec", `an IP address has 4 or 16 bytes, not ${bytes.length}`);
  }
  return formatText(bytes);
}

/** Bytes of an IPv4 or IPv6 address in its usual text form (shared/ip-prefix.ts says which). */
export function parseAddress(text: string): Buffer {
  const address = parseText(text);
  if (address === null) throw new PacketError("invalid-spec", `"${text}" is not an IP address`);
  return Buffer.from(address.bytes);
}
