/**
 * DNS engine throughput and latency (not run by `npm test`; needs root, dig and dnsmasq):
 *   sudo node --import tsx e2e/bench/dns.bench.ts
 * In the DNS test topology (e2e/dns/topology.ts), one UDP load generator in L asks: dnsmasq
 * straight (the baseline), the engine for one name again and again (cached), and the engine for
 * a new name each time (uncached: every query goes to dnsmasq). Prints figures; asserts nothing.
 */
import type { LoadClientCommands, LoadRequest, LoadResult } from "../dns/load-client.js";
import { buildDnsTopology, type DnsTopology } from "../dns/topology.js";
import { ZONE } from "../dns/zone.js";
import { oneShot } from "../netns/child-rpc.js";
import { buildFullPath, startAgent } from "../fullpath/topology.js";
import { netnsSkipReason } from "../netns/index.js";
import { linkAddresses } from "../../src/shared/link-addresses.js";
import { LAN } from "../netns/address-plan.js";

const LOAD_CLIENT = oneShot<LoadClientCommands>("e2e/dns/load-client.ts");

const COUNT = Number(process.env.DNS_BENCH_COUNT ?? 20_000);
const CONCURRENCY = Number(process.env.DNS_BENCH_CONCURRENCY ?? 32);

async function load(
  topo: Pick<DnsTopology, "local">,
  server: string,
  port: number,
  names: "same" | "unique",
): Promise<LoadResult> {
  const request: LoadRequest = {
    server,
    port,
    count: COUNT,
    concurrency: CONCURRENCY,
    names,
    type: "TXT",
    zone: ZONE,
  };
  return LOAD_CLIENT.call(topo.local, "load", request, 300_000);
}

const skip = netnsSkipReason({ tools: ["dig", "dnsmasq"] });
if (skip) {
  console.log(`dns bench skipped: ${skip}`);
  process.exit(0);
}
const topo = await buildDnsTopology();
try {
  // Same-name runs ask txt.corp.test TXT; unique names get NXDOMAIN from dnsmasq (TXT: no
  // getaddrinfo fallback), so every one of them goes upstream.
  const rows = [
    ["dnsmasq directly, one name", await load(topo, LAN.dns.v4, 53, "same")],
    ["dnsmasq directly, unique names", await load(topo, LAN.dns.v4, 53, "unique")],
    ["engine, one name (cached)", await load(topo, "127.0.0.1", topo.enginePort, "same")],
    ["engine, unique names (uncached)", await load(topo, "127.0.0.1", topo.enginePort, "unique")],
  ] as const;
  console.log(`${COUNT} UDP queries per run, ${CONCURRENCY} outstanding`);
  for (const [name, result] of rows) {
    console.log(
      `${name.padEnd(34)} ${String(result.qps).padStart(7)} q/s  median ${result.medianMs.toFixed(3)} ms  p99 ${result.p99Ms.toFixed(3)} ms  lost ${result.lost}`,
    );
  }
  const { counters } = await topo.report();
  console.log(`engine counters: ${JSON.stringify(counters)}`);
} finally {
  await topo.cleanup();
}

// Through the tunnel: the load generator in R asks the stub address, so every query crosses R's
// TUN, the agent, the link and the exit side's DNS engine, against dnsmasq asked straight from L.
const path = await buildFullPath();
try {
  const run = startAgent(path);
  await run.ready;
  const stub = linkAddresses("198.18.0.0/30").stub;
  const rows = [
    ["dnsmasq straight from L, one name", await load({ local: path.local }, LAN.dns.v4, 53, "same")],
    ["dnsmasq straight from L, unique", await load({ local: path.local }, LAN.dns.v4, 53, "unique")],
    ["R through the tunnel, one name", await load({ local: path.remote }, stub, 53, "same")],
    ["R through the tunnel, unique", await load({ local: path.remote }, stub, 53, "unique")],
  ] as const;
  console.log(
    `\nthrough the tunnel (agent + link + DNS engine), ${COUNT} queries, ${CONCURRENCY} outstanding`,
  );
  for (const [name, result] of rows) {
    console.log(
      `${name.padEnd(34)} ${String(result.qps).padStart(7)} q/s  median ${result.medianMs.toFixed(3)} ms  p99 ${result.p99Ms.toFixed(3)} ms  lost ${result.lost}`,
    );
  }
} finally {
  await path.cleanup();
}
