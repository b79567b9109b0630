// Nothing the remote sends may crash the process or make the engine throw: 100,000 random and
// mutated queries, answered by a resolver that itself sends valid, corrupted or random answers.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { DnsTransport } from "../../../shared/dns-row.js";
import { DnsEngine } from "./engine.js";
import { FUZZ_RUNS, fuzzSeed } from "../fuzz-runs.js";
import { makeQuery, makeResponse, SERVER_A } from "./test-support.js";
import { UpstreamError, type UpstreamExchange } from "./upstream.js";

type Mutation =
  | { kind: "flip"; at: number; value: number }
  | { kind: "cut"; at: number }
  | { kind: "append"; bytes: Uint8Array };

type Plan =
  | { kind: "answer" | "nxdomain" | "timeout" }
  | { kind: "corrupt"; mutations: Mutation[] }
  | { kind: "garbage"; bytes: Uint8Array };

function mutate(base: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(base);
  for (const mutation of mutations) {
    if (bytes.length === 0) break;
    if (mutation.kind === "flip") bytes[mutation.at % bytes.length] = mutation.value;
    else if (mutation.kind === "cut") bytes = bytes.subarray(0, mutation.at % (bytes.length + 1));
    else bytes = Buffer.concat([bytes, mutation.bytes]);
  }
  return bytes;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.nat(600), value: fc.nat(255) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cut" as const), at: fc.nat(600) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("append" as const), bytes: fc.uint8Array({ maxLength: 40 }) }),
  },
);

const TYPES = [
  "A",
  "AAAA",
  "TXT",
  "MX",
  "SRV",
  "CNAME",
  "PTR",
  "SOA",
  "NS",
  "CAA",
  "UNKNOWN_65",
  "ANY",
  "AXFR",
  "OPT",
];

const validQueryArb = fc
  .record({
    id: fc.nat(0xffff),
    label: fc.stringMatching(/^[a-zA-Z0-9-]{1,20}$/),
    type: fc.constantFrom(...TYPES),
    edns: fc.option(
      fc.record({ udpPayloadSize: fc.nat(0xffff), dnssecOk: fc.boolean(), version: fc.nat(2) }),
    ),
    checkingDisabled: fc.boolean(),
  })
  .map(({ label, edns, ...options }) =>
    makeQuery(`${label}.fuzz.test`, { ...options, edns: edns ?? undefined }),
  );

const inputArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: validQueryArb },
  {
    weight: 3,
    arbitrary: fc
      .tuple(validQueryArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
      .map(([query, mutations]) => mutate(query, mutations)),
  },
);

const planArb: fc.Arbitrary<Plan> = fc.oneof(
  fc.record({ kind: fc.constantFrom("answer" as const, "nxdomain" as const, "timeout" as const) }),
  fc.record({
    kind: fc.constant("corrupt" as const),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant("garbage" as const), bytes: fc.uint8Array({ maxLength: 100 }) }),
);

let plan: Plan = { kind: "answer" };

const exchange: UpstreamExchange = async (query, upstream, protocol) => {
  const answer = makeResponse(query, {
    answers: [
      { type: "CNAME", name: "x.fuzz.test", ttl: 30, data: "y.fuzz.test" },
      { type: "A", name: "y.fuzz.test", ttl: 30, data: "198.18.0.1" },
    ],
  });
  switch (plan.kind) {
    case "answer":
      return answer;
    case "nxdomain":
      return makeResponse(query, { rcode: 3 });
    case "timeout":
      throw new UpstreamError("timeout", `${upstream.address} ${protocol}`, "fuzz");
    case "corrupt": {
      // Keep the id so the corruption reaches the engine's checks, not just the id filter.
      const corrupt = mutate(answer, plan.mutations);
      if (corrupt.length >= 2) corrupt.writeUInt16BE(query.readUInt16BE(0), 0);
      return corrupt;
    }
    case "garbage":
      return Buffer.from(plan.bytes);
  }
};

test(`${FUZZ_RUNS} random and mutated queries never make the engine throw`, async () => {
  const seed = fuzzSeed();
  console.log(`DNS fuzzer: seed ${seed} (replay with BACKHAUL_FUZZ_SEED=${seed})`);
  const engine = new DnsEngine({
    resolvers: [SERVER_A],
    exchange,
    lookup: async (name) => (name.length % 2 ? [{ address: "198.18.0.2", family: 4 }] : []),
    cache: { maxEntries: 500 },
  });
  await fc.assert(
    fc.asyncProperty(
      inputArb,
      fc.constantFrom<DnsTransport>("udp", "tcp"),
      planArb,
      async (input, transport, next) => {
        plan = next;
        const answer = await engine.handleQuery(input, transport);
        if (answer === null) return;
        assert.ok(answer.length >= 12, "an answer has a header");
        assert.equal(answer.readUInt16BE(0), input.readUInt16BE(0), "the id is echoed");
        assert.ok(answer.readUInt16BE(2) & 0x8000, "QR is set");
        assert.ok(
          answer.length <= (transport === "udp" ? 1232 : 0xffff),
          `${answer.length} bytes over ${transport}`,
        );
      },
    ),
    { numRuns: FUZZ_RUNS, seed },
  );
  assert.equal(engine.counters.internalErrors, 0);
  // Both paths in at least 1 % of the runs, or the mix only tests one of them.
  assert.ok(engine.counters.malformed > FUZZ_RUNS / 100, `malformed: ${engine.counters.malformed}`);
  assert.ok(
    engine.counters.upstreamQueries > FUZZ_RUNS / 100,
    `upstream: ${engine.counters.upstreamQueries}`,
  );
  engine.close();
});
