// R's own resolver in the split-DNS suites: Q, a namespace only R reaches, with a dnsmasq that
// answers remote.test and a decoy for host.corp.test (only a leak would show it); and how those
// suites ask R's resolver (dig, and getaddrinfo's latency as programs see it).
import assert from "node:assert/strict";
import type { Cli } from "../cli/json-cli.js";
import { ZONE } from "./zone.js";
import { CORP_NET, LAN, onNetwork, REMOTE_RESOLVER } from "../netns/address-plan.js";
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
/** How many lookups of the name one lookupLatency makes. */
export const LATENCY_LOOKUPS = ROUNDS * SAMPLES;

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

/** The names a `connect --json` put in its DNS table so far. */
export function dnsTableNames(cli: Cli): string[] {
  return cli.events.filter((e) => e.type === "dns").map((e) => (e as unknown as { name: string }).name);
}

/** Every record type under corp.test resolves on R exactly as S answers L; the PTR of S's host too. */
export async function checkSplitDomainOnRemote(
  remote: NetworkNamespace,
  local: NetworkNamespace,
): Promise<void> {
  for (const [name, type] of [
    [`host.${ZONE}`, "A"],
    [`host.${ZONE}`, "AAAA"],
    [ZONE, "MX"],
    [`txt.${ZONE}`, "TXT"],
    [`_http._tcp.${ZONE}`, "SRV"],
  ] as const) {
    const direct = await digShort(local, [name, type], LAN.dns.v4);
    assert.ok(direct.length > 0, `S answers ${name} ${type}`);
    assert.deepEqual(await digShort(remote, [name, type]), direct, `${name} ${type} on R`);
  }
  assert.deepEqual(await digShort(remote, ["-x", CORP_NET.host.v4]), [`host.${ZONE}.`]);
}

/**
 * The DNS table holds the names that went through the link, and only those: corp.test's and the
 * PTRs of the advertised 198.19.0.0/16 (waiting for the PTR's row, the last asked).
 */
export async function checkDnsTableHoldsOnlySplit(cli: Cli): Promise<void> {
  const ptr = CORP_NET.host.v4.split(".").reverse().join(".") + ".in-addr.arpa";
  for (let waited = 0; !dnsTableNames(cli).includes(ptr) && waited < 5_000; waited += 100)
    await new Promise((resolve) => setTimeout(resolve, 100));
  const names = dnsTableNames(cli);
  for (const expected of [`host.${ZONE}`, ZONE, `txt.${ZONE}`, `_http._tcp.${ZONE}`, ptr])
    assert.ok(names.includes(expected), `${expected} in the DNS table: ${names.join(", ")}`);
  for (const name of names)
    assert.ok(
      name === ZONE || name.endsWith(`.${ZONE}`) || name.endsWith(".19.198.in-addr.arpa"),
      `only names through the link in the DNS table, not ${name}`,
    );
}

/** Waits (5 s at most) until R's resolver, through whatever `via` names, answers Q's own name. */
export async function untilRemoteResolves(remote: NetworkNamespace, via: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    const answer = await digShort(remote, [PUB, "A"]).catch(() => []);
    if (answer.join() === REMOTE_RESOLVER.pub) return;
    if (tries > 50) throw new Error(`${via} does not lead to Q: ${answer.join()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
