// R's own resolver in the split-DNS suites: Q, a namespace only R reaches, with a dnsmasq that
// answers remote.test and a decoy for host.corp.test (only a leak would show it); and how those
// suites ask R's resolver (dig, and getaddrinfo's latency as programs see it).
import { ZONE } from "./zone.js";
import { onNetwork, REMOTE_RESOLVER } from "../netns/address-plan.js";
import type { NetnsLab, NetworkNamespace } from "../netns/index.js";

export const REMOTE_ZONE = "remote.test";
/** A name only Q knows. */
export const PUB = `pub.${REMOTE_ZONE}`;

/** Q's dnsmasq: the remote's own resolver, with its own names and a decoy for corp.test. */
function remoteDnsmasqArgs(): string[] {
  return [
    "--no-daemon",
    "--no-resolv",
    "--no-hosts",
    `--listen-address=${REMOTE_RESOLVER.dns.v4}`,
    "--bind-interfaces",
    "--pid-file=",
    "--user=root",
    `--host-record=${PUB},${REMOTE_RESOLVER.pub}`,
    `--txt-record=txt.${REMOTE_ZONE},remote only`,
    `--host-record=host.${ZONE},${REMOTE_RESOLVER.decoy}`,
  ];
}

/** Q beside R (REMOTE_RESOLVER's link), its dnsmasq started; resolves once it answers `PUB` at its address. */
export async function addRemoteResolver(lab: NetnsLab, remote: NetworkNamespace): Promise<void> {
  const resolver = await lab.createNamespace("rdns");
  await lab.addVethPair(remote, resolver, {
    addressesA: onNetwork(REMOTE_RESOLVER.network, REMOTE_RESOLVER.remote),
    addressesB: onNetwork(REMOTE_RESOLVER.network, REMOTE_RESOLVER.dns),
  });
  resolver.spawn("dnsmasq", remoteDnsmasqArgs());
  for (let tries = 0; ; tries++) {
    const answer = await digShort(remote, [PUB, "A"], REMOTE_RESOLVER.dns.v4).catch(() => []);
    if (answer.join() === REMOTE_RESOLVER.pub) return;
    if (tries > 50) throw new Error(`Q's dnsmasq does not answer ${PUB}: ${answer.join()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `dig +short`, sorted lines: at `server`, or at the namespace's resolv.conf's first server. */
export async function digShort(
  ns: NetworkNamespace,
  args: readonly string[],
  server?: string,
): Promise<string[]> {
  const result = await ns.runChecked(
    "dig",
    [...(server === undefined ? [] : [`@${server}`]), "+short", "+time=3", "+tries=1", ...args],
    { timeoutMs: 15_000 },
  );
  return result.stdout.split("\n").filter(Boolean).sort();
}

/** Lookups per latency sample. */
const SAMPLES = 200;
/** Rounds of `SAMPLES` lookups, apart: the machine's other load comes and goes (tests share 2 cores). */
const ROUNDS = 3;

export interface Latency {
  median: number;
  p90: number;
  /** Every round's median; `median` and `p90` are the quickest round's. */
  rounds: number[];
}

/** getaddrinfo (glibc, through R's resolv.conf) `SAMPLES` times a round in one process, in µs. */
export async function lookupLatency(ns: NetworkNamespace, name: string): Promise<Latency> {
  const script = `
    const dns = require("node:dns");
    (async () => {
      const rounds = [];
      for (let round = 0; round < ${ROUNDS}; round++) {
        const times = [];
        for (let i = 0; i < ${SAMPLES}; i++) {
          const start = process.hrtime.bigint();
          await dns.promises.lookup(process.argv[1], { family: 4 });
          times.push(Number(process.hrtime.bigint() - start) / 1000);
        }
        times.sort((a, b) => a - b);
        rounds.push({ median: times[${SAMPLES >> 1}], p90: times[${Math.floor(SAMPLES * 0.9)}] });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      console.log(JSON.stringify(rounds));
    })();`;
  const result = await ns.runChecked(process.execPath, ["-e", script, name], { timeoutMs: 60_000 });
  const rounds = JSON.parse(result.stdout) as { median: number; p90: number }[];
  const quickest = rounds.reduce((best, round) => (round.median < best.median ? round : best));
  return { ...quickest, rounds: rounds.map((round) => round.median) };
}

/** The line the suites print: `PUB`'s getaddrinfo latency before Backhaul and with split DNS. */
export function latencyReport(before: Latency, splitLabel: string, split: Latency): string {
  const line = (what: string, sample: Latency): string =>
    `${what}: median ${sample.median.toFixed(0)} µs, p90 ${sample.p90.toFixed(0)} µs ` +
    `(round medians ${sample.rounds.map((median) => median.toFixed(0)).join("/")})`;
  return (
    `getaddrinfo(${PUB}) on R, best of ${ROUNDS} rounds of ${SAMPLES} lookups: ${line("before", before)}; ` +
    line(`split (${splitLabel})`, split)
  );
}
