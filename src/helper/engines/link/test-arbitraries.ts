// fast-check generators shared by the link tests (not a test file itself).
import fc from "fast-check";
import { LINK_COUNTER_NAMES, MIN_LINK_MTU, MIN_LINK_MTU_V6 } from "../../../shared/link-protocol.js";
import type { LinkConfig, LinkCounters, LinkDnsConfig, StatsReport } from "../../../shared/link-protocol.js";

/** Unicode text without the controls that decoders replace, so it round-trips unchanged. */
export function printableText(): fc.Arbitrary<string> {
  return fc
    .string({ unit: "grapheme", maxLength: 40 })
    .map((text) => text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, ""));
}

function prefixBytes(bytes: Uint8Array, prefixLength: number): Uint8Array {
  const masked = Uint8Array.from(bytes);
  for (let bit = prefixLength; bit < masked.length * 8; bit++) {
    masked[bit >> 3] = (masked[bit >> 3] ?? 0) & ~(0x80 >> (bit & 7));
  }
  return masked;
}

function formatIpv6(bytes: Uint8Array, compress: boolean): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  const full = groups.map((group) => group.toString(16)).join(":");
  if (!compress) return full;
  // Replace the longest run of zero groups (two or more) with "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length++;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }
  if (bestStart < 0) return full;
  const head = groups.slice(0, bestStart).map((g) => g.toString(16));
  const tail = groups.slice(bestStart + bestLength).map((g) => g.toString(16));
  return `${head.join(":")}::${tail.join(":")}`;
}

export function ipv4Prefix(maxLength: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: maxLength }))
    .map(([bytes, length]) => `${Array.from(prefixBytes(bytes, length)).join(".")}/${length}`);
}

export function ipv6Prefix(maxLength: number): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: maxLength }),
      fc.boolean(),
    )
    .map(([bytes, length, compress]) => `${formatIpv6(prefixBytes(bytes, length), compress)}/${length}`);
}

export function arbitraryConfig(): fc.Arbitrary<LinkConfig> {
  return fc
    .tuple(fc.option(ipv4Prefix(30), { nil: null }), fc.option(ipv6Prefix(126), { nil: null }))
    .filter(([v4, v6]) => v4 !== null || v6 !== null)
    .chain(([subnetV4, subnetV6]) => {
      const routeFamilies: fc.Arbitrary<string>[] = [];
      if (subnetV4 !== null) routeFamilies.push(ipv4Prefix(32));
      if (subnetV6 !== null) routeFamilies.push(ipv6Prefix(128));
      const servers = fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { minLength: 1, maxLength: 3 });
      const dns: fc.Arbitrary<LinkDnsConfig> = fc.oneof(
        fc.constant({ mode: "off" as const }),
        servers.map((list) => ({ mode: "all" as const, servers: list })),
        fc
          .tuple(servers, fc.array(fc.domain(), { minLength: 1, maxLength: 3 }))
          .map(([list, domains]) => ({ mode: "split" as const, servers: list, domains })),
      );
      return fc.record({
        subnetV4: fc.constant(subnetV4),
        subnetV6: fc.constant(subnetV6),
        mtu: fc.integer({ min: subnetV6 === null ? MIN_LINK_MTU : MIN_LINK_MTU_V6, max: 65535 }),
        routes: fc.array(fc.oneof(...routeFamilies), { maxLength: 8 }),
        dns,
      });
    })
    .map((config) => ({ ...config })); // fc.record builds null-prototype objects; JSON gives plain ones
}

/** A JSON-safe number: JSON turns -0 into 0. */
const jsonNumber = fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n));

export function arbitraryStats(): fc.Arbitrary<StatsReport> {
  const counters = fc
    .array(fc.maxSafeNat(), { minLength: LINK_COUNTER_NAMES.length, maxLength: LINK_COUNTER_NAMES.length })
    .map(
      (values) => Object.fromEntries(LINK_COUNTER_NAMES.map((name, i) => [name, values[i] ?? 0])) as unknown,
    );
  return fc
    .record({
      sentAt: jsonNumber,
      rttMs: fc.option(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), { nil: null }),
      link: counters as fc.Arbitrary<LinkCounters>,
      extra: fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,20}$/), jsonNumber, { maxKeys: 5 }),
    })
    .map((report) => ({ ...report, extra: { ...report.extra } }));
}

type Mutation =
  | { kind: "set"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = Buffer.from(bytes);
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    if (m.kind === "set" && at < out.length) out[at] = m.value;
    else if (m.kind === "truncate") out = out.subarray(0, at);
    else if (m.kind === "insert") out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    else if (m.kind === "delete") out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.count)]);
  }
  return out;
}

/** Random bytes, valid encodings, and valid encodings with a few bytes changed, cut or added. */
export function mutatedBytes(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    valid,
    fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([bytes, m]) => mutate(bytes, m)),
  );
}
