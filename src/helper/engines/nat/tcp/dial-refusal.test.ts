// A TCP dial that this computer's kernel refuses is told to the remote the way a router would.
// The kernel is real: the engine runs in a child inside a private network namespace (unshare
// --net) with prohibit routes, so no route of this machine changes, and the namespace goes when
// the child exits.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { netnsSkipReason, skipSaying } from "../../../../../e2e/netns/preconditions.js";
import { Icmpv4Type, Icmpv4UnreachableCode, Icmpv6Type, Icmpv6UnreachableCode } from "../../packet/index.js";

const module = (path: string): string => JSON.stringify(new URL(path, import.meta.url).href);

/** Sends a SYN to each prohibited address and prints, per answer, the ICMP type and code. */
const CHILD = `
import { buildTcpPacket, parseAddress, parseIp, parseTransport, TcpFlag } from ${module("../../packet/index.ts")};
import { CapturingOutput } from ${module("../capturing-output.ts")};
import { EgressPolicy } from ${module("../egress-policy.ts")};
import { NatEngine } from ${module("../engine.ts")};
const output = new CapturingOutput();
const policy = new EgressPolicy({ prefixes: ["198.19.0.0/16", "2001:db8:19::/48"], allowLocal: false });
const engine = new NatEngine({ output, policy, linkMtu: 65520 });
const answers = [];
for (const [src, dst] of [["198.18.0.1", "198.19.202.1"], ["2001:db8:1::1", "2001:db8:19:202::1"]]) {
  engine.handlePackets([buildTcpPacket({ src: parseAddress(src), dst: parseAddress(dst), srcPort: 40000,
    dstPort: 80, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 65535 })]);
  answers.push(await output.next((packet) => {
    const transport = parseTransport(parseIp(packet));
    if (transport.kind === "icmp") return { type: transport.icmp.type, code: transport.icmp.code };
    if (transport.kind === "tcp") return { rst: transport.tcp.rst };
    return undefined;
  }));
}
console.log(JSON.stringify({ answers, reasons: engine.table.snapshot().map((row) => row.closeReason) }));
engine.close("test over");
`;

const SETUP = [
  "ip link set lo up",
  "ip route add prohibit 198.19.202.0/24",
  "ip -6 route add prohibit 2001:db8:19:202::/64",
  `exec "$0" --import tsx --input-type=module -e "$1"`,
].join(" && ");

test("a dial refused by this computer (a prohibit route: EACCES) is answered administratively prohibited, IPv4 and IPv6", async (t) => {
  const skip = netnsSkipReason({ tools: ["unshare"] });
  if (skip) return skipSaying(t, skip);
  const child = spawn("unshare", ["--net", "sh", "-c", SETUP, process.execPath, CHILD], {
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 20_000,
    killSignal: "SIGKILL",
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 0, `the child failed: ${stderr}`);
  const { answers, reasons } = JSON.parse(stdout) as { answers: unknown[]; reasons: string[] };
  assert.deepEqual(answers, [
    { type: Icmpv4Type.DEST_UNREACHABLE, code: Icmpv4UnreachableCode.ADMIN_PROHIBITED },
    { type: Icmpv6Type.DEST_UNREACHABLE, code: Icmpv6UnreachableCode.ADMIN_PROHIBITED },
  ]);
  assert.deepEqual(reasons, ["connect failed: EACCES", "connect failed: EACCES"]);
});
