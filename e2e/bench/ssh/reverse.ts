// The reverse path of `npm run bench` (issue 15): L reaches P, a network behind R, through
//   direct              R forwards (ip_forward=1), L routes P's network via R: no tunnel
//   backhaul --socks    `backhaul connect --socks` in L (the TUN entrance in R, as the forward row);
//                       curl in L goes through socks5h://127.0.0.1:PORT to the agent's exit
//   sshuttle            sshuttle in L, logged in to R as bhdev: the direction it does natively
// Per path, the figures the proxy row has (curl-transfers.ts), from L to P: bulk down and up,
// small GETs (a new connection each), CPU per GB in R and L. iperf3 and the Node clients cannot
// use a SOCKS proxy, so these are the like-for-like figures of the three.
import { join } from "node:path";
import { quoteShellArg as q } from "../../../src/main/broker/deploy/shell-quote.js";
import { REMOTE_PRIVATE, SSH_LINK } from "../../netns/address-plan.js";
import { describeResult, NetnsLab } from "../../netns/index.js";
import { attachRemotePrivate } from "../../reverse/remote-private.js";
import { runTracked } from "../nat/tracked-run.js";
import { measureTransfers, type CurlOptions, type CurlResult } from "./curl-transfers.js";
import { runConnect } from "./path-backhaul.js";
import { runSshuttle, sshuttleSkipReason } from "./path-sshuttle.js";
import type { BenchTopology } from "./topology.js";
import { fixed } from "../table.js";

export const REVERSE_PATHS = ["direct", "backhaul --socks", "sshuttle"] as const;
export type ReversePathName = (typeof REVERSE_PATHS)[number];

export interface ReverseRow {
  name: ReversePathName;
  setup?: string;
  curl?: CurlResult;
  skipped?: string;
  error?: string;
}

interface ReversePath {
  setup: string;
  /** curl's flags to go through it. */
  flags: string[];
  stop(): Promise<void>;
}

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
    stop,
  };
}

const STARTERS: Record<ReversePathName, (t: BenchTopology) => Promise<ReversePath>> = {
  direct: startDirect,
  "backhaul --socks": startBackhaulSocks,
  sshuttle: startSshuttle,
};

/** Builds P behind R, measures each reverse path in turn, takes P down. */
export async function measureReverse(
  t: BenchTopology,
  options: CurlOptions,
  log: (line: string) => void,
): Promise<ReverseRow[]> {
  const lab = new NetnsLab();
  const rows: ReverseRow[] = [];
  try {
    const p = await attachRemotePrivate(lab, t.remote);
    await p.ip(["route", "add", "default", "via", REMOTE_PRIVATE.remote.v4]);
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
      } catch (error) {
        row.error = message(error);
      } finally {
        await path.stop().catch((error: unknown) => (row.error = `teardown failed: ${message(error)}`));
      }
      rows.push(row);
    }
  } finally {
    await lab.cleanup();
  }
  return rows;
}

/** The reverse table and Backhaul ÷ sshuttle; empty when nothing was measured. */
export function formatReverseTable(rows: readonly ReverseRow[]): string[] {
  if (rows.length === 0) return [];
  const header = ["L → P", "down MB/s", "up MB/s", "ms/GET p50", "ms/GET p90", "CPU s/GB R", "CPU s/GB L"];
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
  const ours = rows.find((row) => row.name === "backhaul --socks")?.curl;
  const theirs = rows.find((row) => row.name === "sshuttle")?.curl;
  const ratio =
    ours && theirs
      ? [
          `backhaul --socks ÷ sshuttle: down ${fixed(ours.downMBps / theirs.downMBps, 2)}×, up ${fixed(ours.upMBps / theirs.upMBps, 2)}×, ` +
            `ms/GET ${fixed(ours.getMedianMs / theirs.getMedianMs, 2)}× (above 1×: faster down/up, slower GETs)`,
        ]
      : [];
  return [
    "",
    "The reverse path: L reaches P, a network behind R (curl in L; iperf3 cannot use a proxy)",
    render(header),
    ...lines.map(render),
    ...ratio,
  ];
}
