// Where a small GET's time goes through Backhaul, hop by hop: tcpdump in R (the TUN device and
// the SSH connection) and in L (the helper's sockets to S) during sequential GETs on new
// connections, read back per connection. Each hop is the time from a packet entering one place
// to the first packet it causes leaving the next: "R" is the agent and sshd (TUN to SSH socket
// and back), "L" is main and the helper (SSH socket to S's socket and back), the rest is S and
// the client. Timestamps come from one clock (every namespace shares this machine's).
import type { NetworkNamespace } from "../../netns/index.js";
import type { ManagedProcess } from "../../netns/process.js";

/** One line of `tcpdump -i any -n -tt -l`, tagged with the namespace it was captured in. */
interface CapturedPacket {
  at: number;
  side: "R" | "L";
  iface: string;
  direction: string;
  text: string;
}

/** The hops of one GET, in seconds (see HOP_NAMES for their order and meaning). */
export type GetHops = Record<HopName, number>;

export const HOP_NAMES = [
  "SYN R",
  "SYN L",
  "dial",
  "SYN-ACK L",
  "SYN-ACK R",
  "client",
  "request R",
  "request L",
  "server",
  "response L",
  "response R",
  "total",
] as const;
export type HopName = (typeof HOP_NAMES)[number];

export function parseCapture(text: string, side: "R" | "L"): CapturedPacket[] {
  const packets: CapturedPacket[] = [];
  for (const line of text.split("\n")) {
    const [at, iface, direction] = line.trim().split(/\s+/);
    const time = Number(at);
    if (!Number.isFinite(time) || iface === undefined || direction === undefined) continue;
    packets.push({ at: time, side, iface, direction, text: line });
  }
  return packets;
}

const isSyn = (p: CapturedPacket): boolean => p.text.includes("Flags [S],");
const isSynAck = (p: CapturedPacket): boolean => p.text.includes("Flags [S.],");
const isRequest = (p: CapturedPacket): boolean => p.text.includes("HTTP: GET ");
const isResponse = (p: CapturedPacket): boolean => p.text.includes("HTTP: HTTP/1.1 ");
/** An SSH packet with data (not a bare ACK), either way. */
const isSshData = (p: CapturedPacket): boolean => /\.22[ :]/.test(p.text) && !p.text.endsWith("length 0");

/**
 * Per GET on `tun` (the remote's TUN device), the hops: each found as the first matching packet
 * after the one before. GETs whose packets are not all in the capture are left out.
 */
export function getHops(packets: readonly CapturedPacket[], tun: string): GetHops[] {
  const all = [...packets].sort((a, b) => a.at - b.at);
  const after = (from: number, match: (p: CapturedPacket) => boolean): number => {
    const found = all.find((p) => p.at >= from && match(p));
    if (!found) throw new RangeError("not captured");
    return found.at;
  };
  const r = (p: CapturedPacket): boolean => p.side === "R";
  const l = (p: CapturedPacket): boolean => p.side === "L";
  const intoTun = (p: CapturedPacket): boolean => r(p) && p.iface === tun && p.direction === "In";
  const fromTun = (p: CapturedPacket): boolean => r(p) && p.iface === tun && p.direction === "Out";
  const sshOut = (p: CapturedPacket): boolean => r(p) && p.direction === "Out" && isSshData(p);
  const sshIn = (p: CapturedPacket): boolean => r(p) && p.direction === "In" && isSshData(p);
  const hops: GetHops[] = [];
  for (const syn of all.filter((p) => fromTun(p) && isSyn(p))) {
    try {
      const t0 = syn.at;
      const synOut = after(t0, sshOut);
      const dial = after(t0, (p) => l(p) && p.direction === "Out" && isSyn(p));
      const dialed = after(dial, (p) => l(p) && p.direction === "In" && isSynAck(p));
      const synAckIn = after(dialed, sshIn);
      const synAck = after(dialed, (p) => intoTun(p) && isSynAck(p));
      const request = after(synAck, (p) => fromTun(p) && isRequest(p));
      const requestOut = after(request, sshOut);
      const requestToS = after(request, (p) => l(p) && p.direction === "Out" && isRequest(p));
      const response = after(requestToS, (p) => l(p) && p.direction === "In" && isResponse(p));
      const responseIn = after(response, sshIn);
      const delivered = after(response, (p) => intoTun(p) && isResponse(p));
      hops.push({
        "SYN R": synOut - t0,
        "SYN L": dial - synOut,
        dial: dialed - dial,
        "SYN-ACK L": synAckIn - dialed,
        "SYN-ACK R": synAck - synAckIn,
        client: request - synAck,
        "request R": requestOut - request,
        "request L": requestToS - requestOut,
        server: response - requestToS,
        "response L": responseIn - response,
        "response R": delivered - responseIn,
        total: delivered - t0,
      });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
  }
  return hops;
}

const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};

/** The table: p50 and p90 of each hop in µs, and R's and L's shares of the median GET. */
export function formatHops(name: string, hops: readonly GetHops[]): string[] {
  if (hops.length === 0) return [`${name}: no complete GET in the capture`];
  const p50 = (hop: HopName): number =>
    quantile(
      hops.map((h) => h[hop]),
      0.5,
    ) * 1e6;
  const p90 = (hop: HopName): number =>
    quantile(
      hops.map((h) => h[hop]),
      0.9,
    ) * 1e6;
  const sum = (names: readonly HopName[]): number => names.reduce((total, hop) => total + p50(hop), 0);
  const rSide = sum(["SYN R", "SYN-ACK R", "request R", "response R"]);
  const lSide = sum(["SYN L", "SYN-ACK L", "request L", "response L"]);
  return [
    `${name}: where a GET's time goes, ${hops.length} GETs (µs; R = agent and sshd, L = main and the helper)`,
    ...HOP_NAMES.map(
      (hop) =>
        `  ${hop.padEnd(11)} p50 ${p50(hop).toFixed(0).padStart(6)}  p90 ${p90(hop).toFixed(0).padStart(6)}`,
    ),
    `  R's four hops ${rSide.toFixed(0)} µs, L's four ${lSide.toFixed(0)} µs (sums of medians)`,
  ];
}

/** tcpdump in R (every interface: TUN and SSH) and in L (port 80: the helper's sockets to S). */
export function startCaptures(
  remote: NetworkNamespace,
  local: NetworkNamespace,
): {
  stop(): Promise<CapturedPacket[]>;
} {
  const capture = (namespace: NetworkNamespace, side: "R" | "L", filter: string) => {
    const process: ManagedProcess = namespace.spawn("tcpdump", ["-i", "any", "-n", "-tt", "-l", filter]);
    let text = "";
    process.child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
    return { process, side, text: () => text };
  };
  const captures = [capture(remote, "R", "tcp port 80 or tcp port 22"), capture(local, "L", "tcp port 80")];
  return {
    stop: async () => {
      for (const { process } of captures) {
        process.child.kill("SIGINT");
        await process.waitForExit(10_000).catch(() => process.stop());
      }
      return captures.flatMap((c) => parseCapture(c.text(), c.side));
    },
  };
}
