// Command-line flags of `npm run bench:nat`; every list flag takes comma-separated values.
import { parseArgs } from "node:util";
import { list, positiveInteger as integerFlag } from "../flags.js";

export const PATH_NAMES = ["kernel", "slirp4netns", "backhaul"] as const;
export type PathName = (typeof PATH_NAMES)[number];
export type Family = 4 | 6;

export interface BenchOptions {
  mtus: number[];
  families: Family[];
  paths: PathName[];
  /** iperf3 -t, per direction. */
  seconds: number;
  roundTrips: number;
  out: string;
}

export const USAGE = `usage: tsx e2e/bench/nat.bench.ts [--mtu 1500,65520] [--family 4,6]
       [--path kernel,slirp4netns,backhaul] [--seconds 5] [--round-trips 2000] [--out FILE]`;

const positiveInteger = (flag: string, value: string, max: number): number =>
  integerFlag(flag, value, max, USAGE);

export function parseOptions(argv: string[], defaultOut: string): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      mtu: { type: "string", default: "1500,65520" },
      family: { type: "string", default: "4,6" },
      path: { type: "string", default: PATH_NAMES.join(",") },
      seconds: { type: "string", default: "5" },
      "round-trips": { type: "string", default: "2000" },
      out: { type: "string", default: defaultOut },
    },
  });
  const mtus = list(values.mtu).map((mtu) => {
    const number = positiveInteger("mtu", mtu, 65520);
    // IPv6 needs 1280; slirp4netns accepts at most 65521, the TUN and veth 65535.
    if (number < 1280) throw new Error(`--mtu ${mtu}: below IPv6's minimum of 1280`);
    return number;
  });
  const families = list(values.family).map((family): Family => {
    if (family === "4" || family === "6") return Number(family) as Family;
    throw new Error(`--family takes 4 and/or 6, got ${family}\n${USAGE}`);
  });
  const paths = list(values.path).map((path): PathName => {
    const known = PATH_NAMES.find((name) => name === path);
    if (!known) throw new Error(`--path takes ${PATH_NAMES.join(", ")}, got ${path}\n${USAGE}`);
    return known;
  });
  return {
    mtus,
    families,
    paths,
    seconds: positiveInteger("seconds", values.seconds, 60),
    roundTrips: positiveInteger("round-trips", values["round-trips"], 100_000),
    out: values.out,
  };
}
