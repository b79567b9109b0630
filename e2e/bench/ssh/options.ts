// Command-line flags of `npm run bench` (e2e/bench/ssh.bench.ts).
import { isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { list, positiveInteger } from "../flags.js";
import { PEER_NAMES, type PeerName } from "./path.js";

export const ROW_NAMES = [...PEER_NAMES, "raw"] as const;
export type RowName = (typeof ROW_NAMES)[number];

/** A build of Backhaul to measure: a copy of dist/ (cli.mjs beside helper-local.mjs and agent/). */
export interface Variant {
  name: string;
  cli: string;
}

export interface SshBenchOptions {
  rows: RowName[];
  /** The reverse path's table (reverse.ts): L to P behind R; "reverse" in --path. */
  reverse: boolean;
  /**
   * Backhaul's builds, each measured once a round in the backhaul and proxy rows; none given:
   * dist/cli.mjs, as one plain row each.
   */
  variants: Variant[];
  /** Each round measures every row once; the variants' order rotates from one round to the next. */
  rounds: number;
  /** "latency": only the round trips and the GETs (no iperf3, dig or CPU figures): a quick A/B. */
  only?: "latency";
  /** iperf3 -t, per direction. */
  seconds: number;
  requests: number;
  dnsQueries: number;
  roundTrips: number;
  /** Round trips counted per process for syscalls (strace) and context switches; 0: none. */
  costRoundTrips: number;
  /** Bytes pushed and pulled through the raw channel. */
  rawBytes: number;
  /** curl through each of Backhaul's entrances (curl-transfers.ts): bytes each way, small GETs. */
  curlBytes: number;
  curlGets: number;
  out: string;
}

export const USAGE = `usage: tsx e2e/bench/ssh.bench.ts [--path direct,backhaul,proxy,sshuttle,ssh-w,raw,reverse]
       [--seconds 5] [--requests 200] [--dns-queries 50] [--round-trips 1000] [--cost-round-trips 1000] [--raw-mb 1024]
       [--curl-mb 256] [--curl-gets 100] [--out FILE]
       [--only latency] [--variant NAME=PATH/TO/cli.mjs ...] [--rounds 1]`;

const integer = (flag: string, value: string, max: number): number =>
  positiveInteger(flag, value, max, USAGE);

/** `NAME=PATH/TO/cli.mjs`: a build of Backhaul to measure beside the others (also bench:latency). */
export function parseVariant(spec: string, taken: readonly Variant[], usage = USAGE): Variant {
  const at = spec.indexOf("=");
  const name = spec.slice(0, at);
  if (at <= 0 || at === spec.length - 1) throw new Error(`--variant takes NAME=PATH, got ${spec}\n${usage}`);
  // The name labels its row and its ratio line: two alike could not be told apart.
  if (taken.some((variant) => variant.name === name)) throw new Error(`--variant ${name} given twice`);
  const file = spec.slice(at + 1);
  return { name, cli: isAbsolute(file) ? file : resolve(file) };
}

export function parseOptions(argv: string[], defaultOut: string): SshBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      path: { type: "string", default: "direct,backhaul,proxy,sshuttle,ssh-w,raw,reverse" },
      seconds: { type: "string", default: "5" },
      requests: { type: "string", default: "200" },
      "dns-queries": { type: "string", default: "50" },
      "round-trips": { type: "string", default: "1000" },
      "cost-round-trips": { type: "string", default: "1000" },
      "raw-mb": { type: "string", default: "1024" },
      "curl-mb": { type: "string", default: "256" },
      "curl-gets": { type: "string", default: "100" },
      out: { type: "string", default: defaultOut },
      only: { type: "string" },
      variant: { type: "string", multiple: true, default: [] },
      rounds: { type: "string", default: "1" },
    },
  });
  if (values.only !== undefined && values.only !== "latency") {
    throw new Error(`--only takes latency, got ${values.only}\n${USAGE}`);
  }
  const paths = list(values.path);
  const reverse = paths.includes("reverse") && values.only !== "latency";
  const rows = paths
    .filter((item) => item !== "reverse")
    .map((item): RowName => {
      // "ssh-w" on the command line: no space to quote.
      const known = ROW_NAMES.find((name) => name === item.replace("ssh-w", "ssh -w"));
      if (!known)
        throw new Error(
          `--path takes direct, backhaul, proxy, sshuttle, ssh-w, raw, reverse; got ${item}\n${USAGE}`,
        );
      return known;
    });
  const variants = values.variant.reduce<Variant[]>(
    (taken, spec) => [...taken, parseVariant(spec, taken)],
    [],
  );
  if (variants.length > 0 && !rows.includes("backhaul") && !rows.includes("proxy")) {
    throw new Error(`--variant needs backhaul or proxy among --path\n${USAGE}`);
  }
  return {
    reverse,
    // The proxy row has only curl's figures, which --only latency leaves out.
    rows: values.only === "latency" ? rows.filter((row) => row !== "raw" && row !== "proxy") : rows,
    variants,
    rounds: integer("rounds", values.rounds, 100),
    ...(values.only === "latency" ? { only: "latency" as const } : {}),
    seconds: integer("seconds", values.seconds, 60),
    requests: integer("requests", values.requests, 10_000),
    dnsQueries: integer("dns-queries", values["dns-queries"], 1_000),
    roundTrips: integer("round-trips", values["round-trips"], 100_000),
    costRoundTrips:
      values["cost-round-trips"] === "0"
        ? 0
        : integer("cost-round-trips", values["cost-round-trips"], 100_000),
    rawBytes: integer("raw-mb", values["raw-mb"], 16_384) * 1024 * 1024,
    curlBytes: integer("curl-mb", values["curl-mb"], 4_096) * 1024 * 1024,
    curlGets: integer("curl-gets", values["curl-gets"], 10_000),
    out: values.out,
  };
}

export function isPeer(name: RowName): name is PeerName {
  return name !== "raw";
}
