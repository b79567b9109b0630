// The reverse path of `npm run bench` (issue 15): L reaches P, a network behind R, through
//   direct                  R forwards (ip_forward=1), L routes P's network via R: no tunnel
//   backhaul --remote-route `backhaul connect --remote-route P` in L: a TUN in L, the agent's exit
//   backhaul --socks        `backhaul connect --socks` in L (the TUN entrance in R, as the forward
//                           row); curl in L goes through socks5h://127.0.0.1:PORT to the agent's exit
//   sshuttle                sshuttle in L, logged in to R as bhdev: the direction it does natively
// Per path, from L to P: curl's bulk down and up, small GETs (a new connection each) and CPU per
// GB in R and L (curl-transfers.ts); and where packets are routed (all but --socks, which iperf3
// and the Node client cannot use): iperf3 both ways, 1-byte round trips and CPU per GB during
// iperf3, as the forward table has them.
import { join } from "node:path";
import { quoteShellArg as q } from "../../../src/main/broker/deploy/shell-quote.js";
import { REMOTE_PRIVATE, SSH_LINK } from "../../netns/address-plan.js";
import { describeResult, NetnsLab, type ManagedProcess } from "../../netns/index.js";
import { attachRemotePrivate } from "../../reverse/remote-private.js";
import { measure as measureNat } from "../nat/measure.js";
import type { PathName } from "../nat/options.js";
import type { BenchPath } from "../nat/path.js";
import { waitForText } from "../nat/private-network.js";
import { runTracked } from "../nat/tracked-run.js";
import { cpuSince, sampleNamespace } from "./cpu-group.js";
import { measureTransfers, type CurlOptions, type CurlResult } from "./curl-transfers.js";
import { runConnect } from "./path-backhaul.js";
import { runSshuttle, sshuttleSkipReason } from "./path-sshuttle.js";
import type { BenchTopology } from "./topology.js";
import { fixed } from "../table.js";

export const REVERSE_PATHS = ["direct", "backhaul --remote-route", "backhaul --socks", "sshuttle"] as const;
export type ReversePathName = (typeof REVERSE_PATHS)[number];

/** iperf3 and round trips from L to P, where the path routes packets. */
export interface ReverseBulk {
  /** L -> P and P -> L. */
  upMbps: number;
  downMbps: number;
  rrMedianUs: number;
  remoteCpuSPerGB?: number;
  localCpuSPerGB?: number;
}

export interface ReverseRow {
  name: ReversePathName;
  setup?: string;
  curl?: CurlResult;
  bulk?: ReverseBulk;
  skipped?: string;
  error?: string;
}

interface ReversePath {
  setup: string;
  /** curl's flags to go through it. */
  flags: string[];
  /** Packets to P are routed (iperf3 and round trips can run), not only a proxy's streams. */
  routed: boolean;
  stop(): Promise<void>;
}

const ROOT = new URL("../../..", import.meta.url).pathname;
const SOCKS_PORT = 1080;
const P_NETWORK = REMOTE_PRIVATE.network.v4;
const P_BASE = `http://${REMOTE_PRIVATE.server.v4}`;

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function startDirect(t: BenchTopology): Promise<ReversePath> {
  await t.remote.runChecked("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
  await t.local.ip(["route", "add", P_NETWORK, "via", SSH_LINK.remote.v4]);
  return {
    setup: `L routes ${P_NETWORK} via R (${SSH_LINK.remote.v4}); R forwards (ip_forward=1); no tunnel`,
    flags: ["--noproxy", "*"],
    routed: true,
    stop: async () => {
      await t.local.ip(["route", "del", P_NETWORK]);
      await t.remote.runChecked("sysctl", ["-qw", "net.ipv4.ip_forward=0"]);
    },
  };
}

async function startBackhaulSocks(t: BenchTopology): Promise<ReversePath> {
  const { events, stop } = await runConnect(t, ["--entrance", "tun", "--socks", String(SOCKS_PORT)]);
  // With the printed credentials, like the proxy row: the owner check a credential-free client
  // costs (loopback-peer.ts) is not the tunnel's.
  const said = events.find((e) => e.type === "log" && String(e.line).startsWith("socks: "));
  const credentials = /socks5h:\/\/([\w-]+:[\w-]+)@/.exec(String(said?.line))?.[1];
  if (!credentials) {
    await stop();
    throw new Error(`backhaul connect --socks printed no credentials: ${String(said?.line)}`);
  }
  return {
    setup:
      `backhaul connect ssh://bhdev@${SSH_LINK.remote.v4} --socks ${SOCKS_PORT} in L (aes128-gcm, link MTU 65520, ` +
      "the TUN entrance in R); curl in L through socks5h://USER:PASS@127.0.0.1 (the printed credentials)",
    flags: ["--proxy", `socks5h://${credentials}@127.0.0.1:${SOCKS_PORT}`],
    routed: false,
    stop,
  };
}

async function startSshuttle(t: BenchTopology): Promise<ReversePath> {
  // As in path-sshuttle.ts, the other way round: in L, logged in to R as bhdev; R does not
  // forward, so nothing gets past sshuttle.
  const ssh = [
    "ssh",
    ...["-F", "/dev/null", "-i", t.sshd.keys.plain],
    ...["-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes"],
    ...["-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "LogLevel=ERROR"],
    ...["-c", "aes128-gcm@openssh.com"],
  ]
    .map(q)
    .join(" ");
  const args = ["--method", "nat", "-r", `bhdev@${SSH_LINK.remote.v4}`, "-e", ssh, P_NETWORK];
  const stop = await runSshuttle(t, t.local, P_NETWORK, SSH_LINK.remote.v4, args);
  return {
    setup: `sshuttle --method nat -r bhdev@${SSH_LINK.remote.v4} -e 'ssh … -c aes128-gcm@openssh.com' ${P_NETWORK} in L`,
    flags: ["--noproxy", "*"],
    routed: true,
    stop,
  };
}

async function startBackhaulRemoteRoute(t: BenchTopology): Promise<ReversePath> {
  const { stop } = await runConnect(t, ["--entrance", "tun", "--remote-route", P_NETWORK]);
  return {
    setup:
      `backhaul connect ssh://bhdev@${SSH_LINK.remote.v4} --remote-route ${P_NETWORK} in L (aes128-gcm, link ` +
      "MTU 65520): a TUN in L, the agent's exit in R",
    flags: ["--noproxy", "*"],
    routed: true,
    stop,
  };
}

const STARTERS: Record<ReversePathName, (t: BenchTopology) => Promise<ReversePath>> = {
  direct: startDirect,
  "backhaul --remote-route": startBackhaulRemoteRoute,
  "backhaul --socks": startBackhaulSocks,
  sshuttle: startSshuttle,
};

/** Builds P behind R, measures each reverse path in turn, takes P down. */
export async function measureReverse(
  t: BenchTopology,
  options: CurlOptions & { seconds: number; roundTrips: number },
  log: (line: string) => void,
): Promise<ReverseRow[]> {
  const lab = new NetnsLab();
  const rows: ReverseRow[] = [];
  let iperf: ManagedProcess | undefined;
  try {
    const p = await attachRemotePrivate(lab, t.remote);
    await p.ip(["route", "add", "default", "via", REMOTE_PRIVATE.remote.v4]);
    // --forceflush: otherwise the greeting waits in a pipe buffer.
    iperf = p.spawn("iperf3", ["-s", "--forceflush"], { cwd: ROOT });
    await waitForText(iperf, "Server listening", 10_000);
    // P makes /bytes/N once, over its own loopback, so no path pays for it.
    const warm = await runTracked(
      p,
      "curl",
      ["-sS", "--fail", "-o", "/dev/null", `http://127.0.0.1/bytes/${options.curlBytes}`],
      {
        timeoutMs: 60_000,
      },
    );
    if (warm.code !== 0) throw new Error(describeResult("curl in P", [], warm));
    for (const name of REVERSE_PATHS) {
      const skipped = name === "sshuttle" ? sshuttleSkipReason() : undefined;
      if (skipped) {
        rows.push({ name, skipped });
        continue;
      }
      log(`reverse ${name}: setting up`);
      let path: ReversePath;
      try {
        path = await STARTERS[name](t);
      } catch (error) {
        rows.push({ name, error: `setup failed: ${message(error)}` });
        continue;
      }
      const row: ReverseRow = { name, setup: path.setup };
      try {
        log(`reverse ${name}: curl ${options.curlBytes / 2 ** 20} MiB down and up, ${options.curlGets} GETs`);
        const via = { namespace: t.local, flags: path.flags, base: P_BASE };
        row.curl = await measureTransfers(
          t,
          via,
          join(t.dir, `reverse-upload-${options.curlBytes}`),
          options,
        );
        if (path.routed) {
          log(`reverse ${name}: iperf3 up and down, ${options.roundTrips} round trips`);
          row.bulk = await measureBulk(t, options.seconds, options.roundTrips);
        }
      } catch (error) {
        row.error = message(error);
      } finally {
        await path.stop().catch((error: unknown) => (row.error = `teardown failed: ${message(error)}`));
      }
      rows.push(row);
    }
  } finally {
    await iperf?.stop();
    await lab.cleanup();
  }
  return rows;
}

/** iperf3 both ways and round trips from L to P (the forward table's measure(), run in L). */
async function measureBulk(t: BenchTopology, seconds: number, roundTrips: number): Promise<ReverseBulk> {
  const view: BenchPath = {
    // nat/path.ts types this as the NAT bench's own names; measure() only shows it in an error.
    name: "reverse" as PathName,
    mtu: 0,
    remote: t.local,
    hosts: { 4: REMOTE_PRIVATE.server.v4 },
    skipped: {},
    cleanup: () => Promise.resolve(),
  };
  const remoteBefore = await sampleNamespace(t.remote);
  const localBefore = await sampleNamespace(t.local);
  const bulk = await measureNat(view, 4, seconds, roundTrips);
  const perGB = (spent: number): number | undefined =>
    bulk.bytesMoved > 0 ? spent / (bulk.bytesMoved / 1e9) : undefined;
  return {
    upMbps: bulk.upMbps,
    downMbps: bulk.downMbps,
    rrMedianUs: bulk.rrMedianUs,
    remoteCpuSPerGB: perGB(await cpuSince(remoteBefore)),
    localCpuSPerGB: perGB(await cpuSince(localBefore)),
  };
}

/** The reverse table and Backhaul ÷ sshuttle; empty when nothing was measured. */
export function formatReverseTable(rows: readonly ReverseRow[]): string[] {
  if (rows.length === 0) return [];
  const header = [
    "L → P",
    "curl down MB/s",
    "curl up MB/s",
    "ms/GET p50",
    "ms/GET p90",
    "CPU s/GB R",
    "CPU s/GB L",
    "iperf3 up Mbit/s",
    "down Mbit/s",
    "RR p50 µs",
    "CPU s/GB R",
    "CPU s/GB L",
  ];
  const lines = rows.map((row) =>
    row.curl
      ? [
          row.name,
          fixed(row.curl.downMBps, 1),
          fixed(row.curl.upMBps, 1),
          fixed(row.curl.getMedianMs, 2),
          fixed(row.curl.getP90Ms, 2),
          fixed(row.curl.remoteCpuSPerGB, 2),
          fixed(row.curl.localCpuSPerGB, 2),
          fixed(row.bulk?.upMbps, 0),
          fixed(row.bulk?.downMbps, 0),
          fixed(row.bulk?.rrMedianUs, 0),
          row.name === "direct" ? "kernel" : fixed(row.bulk?.remoteCpuSPerGB, 2),
          row.name === "direct" ? "kernel" : fixed(row.bulk?.localCpuSPerGB, 2),
        ]
      : [row.name, row.error ? `failed: ${row.error}` : `skipped: ${row.skipped ?? "no result"}`],
  );
  const widths = header.map((title, i) =>
    Math.max(title.length, ...lines.map((line) => (line.length > 2 ? (line[i] ?? "").length : 0))),
  );
  const render = (line: string[]): string =>
    line.length <= 2
      ? line.join("  ")
      : line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  const find = (name: ReversePathName): ReverseRow | undefined => rows.find((row) => row.name === name);
  const theirs = find("sshuttle");
  const ratios = (["backhaul --remote-route", "backhaul --socks"] as const).flatMap((name) => {
    const ours = find(name);
    if (!ours?.curl || !theirs?.curl) return [];
    const bulk =
      ours.bulk && theirs.bulk
        ? `, iperf3 up ${fixed(ours.bulk.upMbps / theirs.bulk.upMbps, 2)}× down ${fixed(ours.bulk.downMbps / theirs.bulk.downMbps, 2)}×, ` +
          `RR ${fixed(ours.bulk.rrMedianUs / theirs.bulk.rrMedianUs, 2)}×`
        : "";
    return [
      `${name} ÷ sshuttle: curl down ${fixed(ours.curl.downMBps / theirs.curl.downMBps, 2)}×, up ` +
        `${fixed(ours.curl.upMBps / theirs.curl.upMBps, 2)}×, ms/GET ${fixed(ours.curl.getMedianMs / theirs.curl.getMedianMs, 2)}×${bulk}`,
    ];
  });
  return [
    "",
    "The reverse path: L reaches P, a network behind R (clients in L). curl columns: as the entrance table;",
    "iperf3 (L -> P up, P -> L down), 1-byte round trips and CPU per GB during iperf3 where packets are routed",
    "(--socks is a proxy: iperf3 and the round-trip client cannot use it, hence —).",
    render(header),
    ...lines.map(render),
    ...ratios,
    ...(ratios.length > 0 ? ["(above 1×: faster for down/up, slower for ms/GET and RR)"] : []),
  ];
}
