import ipaddr from "ipaddr.js";
import { PacketError } from "./errors.js";

/** Text form of a 4- or 16-byte address (IPv6 compressed per RFC 5952). Not for the hot path. */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length !== 4 && bytes.length !== 16) {
    throw new PacketError("invalid-spec", `an IP address has 4 or 16 bytes, not ${bytes.length}`);
  }
  return ipaddr.fromByteArray(Array.from(bytes)).toString();
}

/** Bytes of an IPv4 or IPv6 address in text form. */
export function parseAddress(text: string): Buffer {
  if (!ipaddr.isValid(text)) throw new PacketError("invalid-spec", `"${text}" is not an IP address`);
  return Buffer.from(ipaddr.parse(text).toByteArray());
}
