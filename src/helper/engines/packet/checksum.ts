/**
 * Internet checksum (RFC 1071). Sums are kept unfolded in a JS number: 32-bit words are added
 * (exact in a double for anything under 8 MiB) and folded once at the end, which is equivalent
 * to summing 16-bit words and several times faster in V8.
 */

import { endianness } from "node:os";

/** Below this, setting up a typed-array view costs more than it saves. */
const WIDE_MIN_BYTES = 64;
const LITTLE_ENDIAN = endianness() === "LE";

/** Adds the big-endian 16-bit words of buf[start, end) to `initial`; an odd last byte is padded. */
export function sumWords(buf: Uint8Array, start: number, end: number, initial = 0): number {
  const misalignment = (buf.byteOffset + start) & 3;
  if (!LITTLE_ENDIAN || end - start < WIDE_MIN_BYTES) return sumBytes(buf, start, end, initial);
  if ((misalignment & 1) === 1) {
    // An odd address (a packet built in place after a 7-byte frame header): take the first byte
    // alone; the rest, summed from an even address, comes out byte-swapped (RFC 1071 §2(B)).
    const rest = foldSum(sumWords(buf, start + 1, end));
    return initial + (buf[start]! << 8) + (((rest & 0xff) << 8) | (rest >>> 8));
  }
  // The one's-complement sum does not depend on byte order (RFC 1071 §2(B)): add aligned
  // native little-endian 32-bit words, fold, then swap the two bytes back. Twice as fast.
  let sum = initial;
  let i = start;
  if (misalignment === 2) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    i += 2;
  }
  const words = (end - i) >>> 2;
  const view = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
  // Four independent sums let the CPU overlap the additions: over twice the speed of one.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const unrolled = words & ~3;
  let w = 0;
  for (; w < unrolled; w += 4) {
    s0 += view[w]!;
    s1 += view[w + 1]!;
    s2 += view[w + 2]!;
    s3 += view[w + 3]!;
  }
  for (; w < words; w++) s0 += view[w]!;
  const little = foldSum(s0 + s1 + s2 + s3);
  sum += ((little & 0xff) << 8) | (little >>> 8);
  return sumBytes(buf, i + words * 4, end, sum);
}

function sumBytes(buf: Uint8Array, start: number, end: number, initial: number): number {
  let sum = initial;
  let i = start;
  const end4 = start + ((end - start) & ~3);
  for (; i < end4; i += 4) {
    sum += ((buf[i]! << 24) >>> 0) + (buf[i + 1]! << 16) + (buf[i + 2]! << 8) + buf[i + 3]!;
  }
  if (i + 1 < end) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    i += 2;
  }
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/** Folds a running sum to 16 bits with end-around carry. */
export function foldSum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** The value to store in a checksum field, given the sum over everything with that field zero. */
export function finishChecksum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** True when a sum taken over data that includes its checksum field verifies. */
export function sumVerifies(sum: number): boolean {
  return foldSum(sum) === 0xffff;
}

/**
 * The pseudo-header sum for TCP, UDP and ICMPv6: the same formula for IPv4 (RFC 793) and IPv6
 * (RFC 8200 §8.1), because the 32-bit length and the zero padding of IPv6 add up identically.
 */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  return sumWords(src, 0, src.length, sumWords(dst, 0, dst.length, protocol + length));
}
