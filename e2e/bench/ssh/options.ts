// Command-line flags of `npm run bench` (e2e/bench/ssh.bench.ts).
import { parseArgs } from "node:util";
import { PEER_NAMES, type PeerName } from "./path.js";

export const ROW_NAMES = [...PEER_NAMES, "raw"] as const;
export type RowName = (typeof ROW_NAMES)[number];

export interface SshBenchOptions {
  rows: RowName[];
  /** "latency": only the round trips and the GETs (no iperf3, dig or CPU figures): a quick A/B. */
  only?: "latency";
  /** iperf3 -t, per direction. */
  seconds: number;
  requests: number;
  dnsQueries: number;
  roundTrips: number;
  /** Bytes pushed and pulled through the raw channel. */
  rawBytes: number;
  out: string;
}

export const USAGE = `usage: tsx e2e/bench/ssh.bench.ts [--path direct,backhaul,sshuttle,ssh-w,raw] [--seconds 5]
       [--requests 200] [--dns-queries 50] [--round-trips 1000] [--raw-mb 1024] [--out FILE]
       [--only latency]`;

function integer(flag: string, value: string, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0 || number > max) {
    throw new Error(`--${flag} must be an integer in 1..${max}, got ${value}\n${USAGE}`);
  }
  return number;
}

export function parseOptions(argv: string[], defaultOut: string): SshBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      path: { type: "string", default: "direct,backhaul,sshuttle,ssh-w,raw" },
      seconds: { type: "string", default: "5" },
      requests: { type: "string", default: "200" },
      "dns-queries": { type: "string", default: "50" },
      "round-trips": { type: "string", default: "1000" },
      "raw-mb": { type: "string", default: "1024" },
      out: { type: "string", default: defaultOut },
      only: { type: "string" },
    },
  });
  if (values.only !== undefined && values.only !== "latency") {
    throw new Error(`--only takes latency, got ${values.only}\n${USAGE}`);
  }
  const rows = values.path
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item): RowName => {
      // "ssh-w" on the command line: no space to quote.
      const known = ROW_NAMES.find((name) => name === item.replace("ssh-w", "ssh -w"));
      if (!known)
        throw new Error(`--path takes direct, backhaul, sshuttle, ssh-w, raw; got ${item}\n${USAGE}`);
      return known;
    });
  return {
    rows: values.only === "latency" ? rows.filter((row) => row !== "raw") : rows,
    ...(values.only === "latency" ? { only: "latency" as const } : {}),
    seconds: integer("seconds", values.seconds, 60),
    requests: integer("requests", values.requests, 10_000),
    dnsQueries: integer("dns-queries", values["dns-queries"], 1_000),
    roundTrips: integer("round-trips", values["round-trips"], 100_000),
    rawBytes: integer("raw-mb", values["raw-mb"], 16_384) * 1024 * 1024,
    out: values.out,
  };
}

export function isPeer(name: RowName): name is PeerName {
  return name !== "raw";
}
