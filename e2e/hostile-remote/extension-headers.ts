/**
 * IPv6 extension headers a host must walk past (RFC 8200 §4): Hop-by-Hop and Destination Options
 * padded with Pad1 and PadN, and a Routing header with no segments left (ignored whatever its
 * type). Inserted in front of a packet's upper layer; its checksum does not change, since the
 * pseudo-header holds the upper layer's own length and protocol.
 */
import type { Prng } from "./prng.js";

export const HOP_BY_HOP = 0;
export const ROUTING = 43;
export const DESTINATION_OPTIONS = 60;

const NAMES: Record<number, string> = {
  [HOP_BY_HOP]: "Hop-by-Hop",
  [ROUTING]: "Routing",
  [DESTINATION_OPTIONS]: "Destination Options",
};

const PAD1 = 0;
const PADN = 1;

/** Options of a Hop-by-Hop or Destination Options header: only padding, 7 bytes at most in a row. */
function optionsHeader(prng: Prng, next: number): Buffer {
  const out = Buffer.alloc(8 * (1 + prng.below(2)));
  out[0] = next;
  out[1] = out.length / 8 - 1;
  let at = 2;
  while (at < out.length) {
    const room = Math.min(out.length - at, 7);
    if (room === 1 || prng.chance(0.25)) {
      out[at++] = PAD1;
      continue;
    }
    const data = prng.below(room - 1);
    out[at] = PADN;
    out[at + 1] = data; // its data bytes stay zero
    at += 2 + data;
  }
  return out;
}

/** A Routing header with Segments Left 0: skipped, whatever its type (RFC 8200 §4.4, RFC 5095). */
function routingHeader(prng: Prng, next: number): Buffer {
  const addresses = prng.below(2);
  const out = Buffer.alloc(8 + 16 * addresses);
  out[0] = next;
  out[1] = 2 * addresses;
  out[2] = prng.pick([0, 2, 3, 4, 253]);
  out[3] = 0;
  for (let i = 0; i < addresses; i++)
    out.set(Buffer.from("20010db8000700000000000000000001", "hex"), 8 + 16 * i);
  return out;
}

export interface WithExtensionHeaders {
  packet: Buffer;
  /** Where the Next Header field naming the upper layer is: the last extension header's first byte. */
  nextHeaderOffset: number;
  /** The headers, in order, for a label. */
  names: string;
}

/** A random chain in RFC 8200's order: Hop-by-Hop, Destination Options, Routing, Destination Options. */
export function randomChain(prng: Prng): number[] {
  const chain: number[] = [];
  if (prng.chance(0.5)) chain.push(HOP_BY_HOP);
  if (prng.chance(0.3)) chain.push(DESTINATION_OPTIONS);
  if (prng.chance(0.3)) chain.push(ROUTING);
  if (chain.length === 0 || prng.chance(0.4)) chain.push(DESTINATION_OPTIONS);
  return chain;
}

/** `packet` (IPv6 without extension headers) with the headers of `chain` in front of its upper layer. */
export function withExtensionHeaders(
  packet: Buffer,
  chain: readonly number[],
  prng: Prng,
): WithExtensionHeaders {
  if (packet[0]! >> 4 !== 6 || packet.readUInt16BE(4) !== packet.length - 40)
    throw new RangeError("not an IPv6 packet without extension headers");
  const headers: Buffer[] = [];
  chain.forEach((type, i) => {
    const next = chain[i + 1] ?? packet[6]!;
    headers.push(type === ROUTING ? routingHeader(prng, next) : optionsHeader(prng, next));
  });
  const out = Buffer.concat([packet.subarray(0, 40), ...headers, packet.subarray(40)]);
  out[6] = chain[0] ?? packet[6]!;
  out.writeUInt16BE(out.length - 40, 4);
  const beforeLast = headers.slice(0, -1).reduce((n, h) => n + h.length, 0);
  return {
    packet: out,
    nextHeaderOffset: headers.length === 0 ? 6 : 40 + beforeLast,
    names: chain.map((type) => NAMES[type] ?? `header ${type}`).join(", "),
  };
}
