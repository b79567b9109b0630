// ICMP echo through the NAT engine's forwarders against the real kernel.
//
// Two namespaces joined by a veth pair: A (198.18.5.1, 2001:db8:5::1) runs e2e/icmp/child.ts, which
// creates a forwarder with a capturing PacketOutput and feeds it echo requests "from the remote"
// (198.18.0.1, 2001:db8:1::1) for B (198.18.5.2, 2001:db8:5::2), whose kernel answers. Every packet
// the forwarder writes back must parse, pass its checksums, and carry the remote's own address,
// identifier, sequence and payload; a destination outside the advertised prefixes must get an
// administratively-prohibited error instead.
//
// Modes, chosen with ping_group_range inside A (the sysctl is per network namespace):
//   datagram: "0 2147483647", the child (root) gets unprivileged ICMP sockets;
//   raw:      "1 0", datagram sockets are refused, root's CAP_NET_RAW opens raw ones;
//   fallback: "1 0" and the child runs as nobody: the addon can open neither, says how to fix it,
//             and createIcmpForwarder falls back to the system ping (iputils, file capability).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import {
  formatAddress,
  IcmpView,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
  parseIp,
} from "../src/helper/engines/packet/index.js";
import type {
  ChildReport,
  ChildRequest,
  EchoRequestSpec,
  IcmpChildCommands,
  ProbeResult,
} from "./icmp/protocol.js";
import { ChildRpc } from "./netns/child-rpc.js";
import { describeResult, type NetworkNamespace } from "./netns/index.js";
import { bundleForAnyUser, type AnyUserScript } from "./netns/any-user-script.js";
import { inAddonLab } from "./netns/addon-lab.js";

const CHILD = fileURLToPath(new URL("./icmp/child.ts", import.meta.url));
const PREFIXES = ["198.18.5.0/24", "2001:db8:5::/64"];
const REFUSED = ["198.19.9.9", "2001:db8:9::9"];
const NOBODY = "65534";

function payload(tag: string): string {
  // 48 bytes like a real ping's: a marker, then a pattern.
  const bytes = Buffer.alloc(48);
  bytes.write(tag);
  for (let i = 16; i < bytes.length; i++) bytes[i] = i;
  return bytes.toString("hex");
}

function spec(src: string, dst: string, identifier: number, sequence: number): EchoRequestSpec {
  return { src, dst, identifier, sequence, payloadHex: payload(`${identifier}/${sequence}`) };
}

/** Two IPv4 flows sharing sequence numbers (the NAT must keep them apart), one IPv6, two refused. */
const ANSWERED: EchoRequestSpec[] = [
  spec("198.18.0.1", "198.18.5.2", 0x1234, 1),
  spec("198.18.0.7", "198.18.5.2", 0x4321, 1),
  spec("198.18.0.1", "198.18.5.2", 0x1234, 2),
  spec("198.18.0.7", "198.18.5.2", 0x4321, 2),
  spec("2001:db8:1::1", "2001:db8:5::2", 0x2345, 1),
  spec("2001:db8:1::1", "2001:db8:5::2", 0x2345, 2),
];
const REFUSED_REQUESTS = [spec("198.18.0.1", REFUSED[0]!, 7, 1), spec("2001:db8:1::1", REFUSED[1]!, 7, 1)];

async function setPingGroupRange(ns: NetworkNamespace, range: string): Promise<void> {
  await ns.runChecked("sysctl", ["-w", `net.ipv4.ping_group_range=${range}`]);
}

/** Waits until B answers the system ping over both families (IPv6 neighbours take a moment). */
async function waitReachable(ns: NetworkNamespace): Promise<void> {
  for (const address of ["198.18.5.2", "2001:db8:5::2"]) {
    for (let attempt = 1; ; attempt++) {
      const result = await ns.run("ping", ["-n", "-c", "1", "-W", "1", address], { timeoutMs: 5_000 });
      if (result.code === 0) break;
      if (attempt >= 10) assert.fail(`B never answered: ${describeResult("ping", [address], result)}`);
    }
  }
}

async function runChild(
  ns: NetworkNamespace,
  child: AnyUserScript,
  request: ChildRequest,
  asNobody = false,
): Promise<ChildReport> {
  const node = [process.execPath, child.file];
  const [file, ...args] = asNobody
    ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", ...node]
    : node;
  const rpc = new ChildRpc<IcmpChildCommands>(ns.spawn(file!, args, { cwd: child.dir }), "the icmp child");
  const report = await rpc.request("run", request, 30_000);
  // The child returns without process.exit(): exiting at all proves close() freed the event loop.
  assert.deepEqual(await rpc.waitForExit(10_000), { code: 0, signal: null }, rpc.stderr);
  assert.equal(report.error, undefined, `${report.error}\n${rpc.stderr}`);
  return report;
}

function request(
  forwarder: ChildRequest["forwarder"],
  socketMode?: ChildRequest["socketMode"],
): ChildRequest {
  const requests = [...ANSWERED, ...REFUSED_REQUESTS];
  return {
    forwarder,
    socketMode,
    prefixes: PREFIXES,
    requests,
    expectPackets: requests.length,
    timeoutMs: 10_000,
  };
}

/** Every packet back towards the remote is a checked echo reply or a checked refusal. */
function checkPackets(report: ChildReport): void {
  const replies = new Set<string>();
  const refusals = new Set<string>();
  for (const base64 of report.packets) {
    const ip = parseIp(Buffer.from(base64, "base64"));
    if (ip.version === 4) assert.ok(ip.verifyHeaderChecksum(), "IPv4 header checksum");
    const icmp = IcmpView.parse(ip.payload, ip.version);
    assert.ok(icmp.verifyChecksum(ip), "ICMP checksum");
    const echoReply = ip.version === 4 ? Icmpv4Type.ECHO_REPLY : Icmpv6Type.ECHO_REPLY;
    if (icmp.type === echoReply) {
      const original = ANSWERED.find(
        (r) =>
          r.identifier === icmp.identifier && r.sequence === icmp.sequence && r.src === formatAddress(ip.dst),
      );
      assert.ok(original, `a reply for a request never sent: ${icmp.identifier}/${icmp.sequence}`);
      assert.equal(formatAddress(ip.src), original.dst, "the reply comes from the destination");
      assert.equal(icmp.payload.toString("hex"), original.payloadHex, "payload echoed");
      replies.add(`${original.src} ${original.identifier}/${original.sequence}`);
      continue;
    }
    const refusal = ip.version === 4 ? Icmpv4Type.DEST_UNREACHABLE : Icmpv6Type.DEST_UNREACHABLE;
    const code =
      ip.version === 4 ? Icmpv4UnreachableCode.ADMIN_PROHIBITED : Icmpv6UnreachableCode.ADMIN_PROHIBITED;
    assert.deepEqual([icmp.type, icmp.code], [refusal, code], "only replies and refusals come back");
    assert.equal(formatAddress(ip.dst), ip.version === 4 ? "198.18.0.1" : "2001:db8:1::1");
    // The error quotes the refused request.
    const quoted = parseIp(Buffer.from(icmp.payload));
    refusals.add(formatAddress(quoted.dst));
  }
  assert.equal(replies.size, ANSWERED.length, "every allowed request was answered exactly once");
  assert.equal(report.packets.length, ANSWERED.length + REFUSED.length);
  assert.deepEqual([...refusals].sort(), [...REFUSED].sort());
  assert.equal(report.counters.refused, REFUSED.length);
  assert.equal(report.counters.icmpUnsupported, 0);
  assert.deepEqual(
    report.rows
      .map((row) => `${row.remote} -> ${row.destination} ${row.upPackets}/${row.downPackets}`)
      .sort(),
    [
      "198.18.0.1 id 4660 -> 198.18.5.2 2/2",
      "198.18.0.7 id 17185 -> 198.18.5.2 2/2",
      "2001:db8:1::1 id 9029 -> 2001:db8:5::2 2/2",
    ],
  );
}

function assertOpened(probe: ProbeResult, mode: string): void {
  assert.ok("mode" in probe, `the socket did not open: ${JSON.stringify(probe)}`);
  assert.equal(probe.mode, mode);
  // Datagram sockets report the kernel's identifier; raw ones leave it to us.
  assert.equal(probe.identifier === null, mode === "raw");
}

test(
  "ICMP echo through LinuxIcmpForwarder and its fallback, real kernel",
  { timeout: 180_000 },
  inAddonLab({ tools: ["ping", "sysctl", "setpriv"] }, async (lab, t) => {
    // The fallback runs the child as nobody, who may not be able to read this checkout.
    const child = bundleForAnyUser(CHILD);
    t.after(() => child.remove());

    const a = await lab.createNamespace("icmpa");
    const b = await lab.createNamespace("icmpb");
    await lab.addVethPair(a, b, {
      addressesA: ["198.18.5.1/24", "2001:db8:5::1/64"],
      addressesB: ["198.18.5.2/24", "2001:db8:5::2/64"],
    });
    await waitReachable(a);

    for (const [name, range, mode] of [
      ["datagram sockets (ping_group_range allows root's group)", "0 2147483647", "datagram"],
      ["raw sockets (datagram refused, root has CAP_NET_RAW)", "1 0", "raw"],
    ] as const) {
      await t.test(name, async () => {
        await setPingGroupRange(a, range);
        const report = await runChild(a, child, request("socket"));
        assertOpened(report.probes[4], mode);
        assertOpened(report.probes[6], mode);
        assert.deepEqual(report.modes, { 4: mode, 6: mode });
        checkPackets(report);
      });
    }

    await t.test("forcing datagram where it is refused names the errno and the sysctl", async () => {
      await setPingGroupRange(a, "1 0");
      const forced = request("socket", "datagram");
      const report = await runChild(a, child, { ...forced, requests: [], expectPackets: 0 });
      for (const probe of [report.probes[4], report.probes[6]]) {
        assert.ok("code" in probe);
        assert.equal(probe.code, "EACCES");
        assert.match(probe.message, /ping_group_range="0 2147483647"/);
      }
    });

    await t.test("neither socket allowed: an explained error, then the system ping", async () => {
      await setPingGroupRange(a, "1 0");
      const report = await runChild(a, child, request("create"), true);
      for (const probe of [report.probes[4], report.probes[6]]) {
        assert.ok("code" in probe, `nobody opened an ICMP socket: ${JSON.stringify(probe)}`);
        assert.equal(probe.code, "EACCES");
        assert.match(
          probe.message,
          /ICMP echo needs either .*ping_group_range="0 2147483647".* or elevation/,
        );
      }
      assert.equal(report.forwarder, "PingCommandForwarder");
      assert.equal(report.logs.length, 1);
      assert.match(report.logs[0]!, /ping command instead of ICMP sockets: EACCES/);
      checkPackets(report);
    });
  }),
);
