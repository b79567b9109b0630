// The ping-command fallback with a fake runner: the commands per OS, replies built from recorded
// outputs, and the concurrency bound.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { formatAddress, Icmpv4Type, Icmpv4UnreachableCode, Icmpv6Type } from "../../packet/index.js";
import {
  PingCommandForwarder,
  pingCommand,
  runPing,
  type PingResult,
  type PingRunner,
} from "./ping-command.js";
import { echoRequest, parseOutput, testContext } from "./testing.js";

const PREFIXES = ["198.18.5.0/24", "2001:db8:5::/64"];

function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}.txt`, import.meta.url), "latin1");
}

test("the command per OS sends one request and bounds the wait", () => {
  assert.deepEqual(pingCommand("linux", 4, "198.18.5.2", 3_000), {
    file: "ping",
    args: ["-n", "-c", "1", "-W", "3", "-4", "198.18.5.2"],
  });
  assert.deepEqual(pingCommand("linux", 6, "2001:db8:5::2", 2_500).args, [
    "-n",
    "-c",
    "1",
    "-W",
    "3",
    "-6",
    "2001:db8:5::2",
  ]);
  assert.deepEqual(pingCommand("darwin", 4, "198.18.5.2", 3_000), {
    file: "ping",
    args: ["-n", "-c", "1", "-W", "3000", "198.18.5.2"],
  });
  assert.deepEqual(pingCommand("darwin", 6, "2001:db8:5::2", 3_000), {
    file: "ping6",
    args: ["-n", "-c", "1", "2001:db8:5::2"],
  });
  assert.deepEqual(pingCommand("win32", 4, "198.18.5.2", 3_000), {
    file: "ping",
    args: ["-n", "1", "-w", "3000", "-4", "198.18.5.2"],
  });
  assert.deepEqual(pingCommand("win32", 6, "2001:db8:5::2", 3_000).args, [
    "-n",
    "1",
    "-w",
    "3000",
    "-6",
    "2001:db8:5::2",
  ]);
  assert.equal(pingCommand("freebsd", 6, "2001:db8:5::2", 3_000).file, "ping6");
});

/** A runner answering from fixtures by destination, recording what it was asked to run. */
function fixtureRunner(outputs: Record<string, string>, calls: string[][]): PingRunner {
  return (file, args) => {
    calls.push([file, ...args]);
    const destination = args[args.length - 1]!;
    return Promise.resolve({ stdout: outputs[destination] ?? "", code: outputs[destination] ? 0 : 1 });
  };
}

/** A runner whose every ping prints `name`'s recorded output and exits 0. */
function printing(name: string): PingRunner {
  return () => Promise.resolve({ stdout: fixture(name), code: 0 });
}

/** Hands the forwarder one echo request from the remote. */
function send(forwarder: PingCommandForwarder, { ip, icmp }: ReturnType<typeof echoRequest>): void {
  forwarder.handle(ip, icmp);
}

/** Resolves once every ping the forwarder ran has been dealt with. */
async function settled(forwarder: PingCommandForwarder): Promise<void> {
  while (forwarder.inFlight > 0) await new Promise((resolve) => setImmediate(resolve));
}

test("a reply in the output becomes an echo reply carrying the remote's own data", async () => {
  const context = testContext(PREFIXES);
  const calls: string[][] = [];
  const forwarder = new PingCommandForwarder(context, {
    platform: "darwin",
    run: fixtureRunner(
      { "198.18.5.2": fixture("macos-ipv4-reply"), "2001:db8:5::2": fixture("macos-ipv6-reply") },
      calls,
    ),
  });
  const payload = Buffer.from("remote ping's timestamp and pattern");
  send(forwarder, echoRequest("198.18.0.1", "198.18.5.2", 77, 3, payload));
  send(forwarder, echoRequest("2001:db8:1::1", "2001:db8:5::2", 78, 4, payload));
  assert.equal(forwarder.inFlight, 2);
  await context.output.waitFor(2, 2_000);

  assert.deepEqual(calls, [
    ["ping", "-n", "-c", "1", "-W", "3000", "198.18.5.2"],
    ["ping6", "-n", "-c", "1", "2001:db8:5::2"],
  ]);
  const first = parseOutput(context.output.packets[0]!);
  assert.equal(formatAddress(first.ip.src), "198.18.5.2");
  assert.equal(formatAddress(first.ip.dst), "198.18.0.1");
  assert.equal(first.ip.hopLimit, 63, "the TTL the OS ping saw");
  assert.equal(first.icmp.type, Icmpv4Type.ECHO_REPLY);
  assert.equal(first.icmp.verifyChecksum(first.ip), true);
  assert.deepEqual([first.icmp.identifier, first.icmp.sequence], [77, 3]);
  assert.deepEqual(first.icmp.payload, payload);
  const second = parseOutput(context.output.packets[1]!);
  assert.equal(second.icmp.type, Icmpv6Type.ECHO_REPLY);
  assert.equal(second.icmp.verifyChecksum(second.ip), true);
  assert.deepEqual([second.icmp.identifier, second.icmp.sequence], [78, 4]);

  const rows = context.table.snapshot();
  assert.deepEqual(
    rows.map((row) => [row.protocol, row.remote, row.upPackets, row.downPackets]),
    [
      ["icmp", "198.18.0.1 id 77", 1, 1],
      ["icmp", "2001:db8:1::1 id 78", 1, 1],
    ],
  );
  assert.equal(forwarder.inFlight, 0);
  forwarder.close("done");
});

test("no reply in the output (Windows' unreachable exits 0) means no echo reply", async () => {
  const context = testContext(PREFIXES);
  const forwarder = new PingCommandForwarder(context, {
    platform: "win32",
    run: printing("windows-ipv4-unreachable"),
  });
  send(forwarder, echoRequest("198.18.0.1", "198.18.5.99", 1, 1));
  await settled(forwarder);
  assert.equal(context.output.packets.length, 0);
  assert.equal(forwarder.unanswered, 1);
  forwarder.close("done");
});

test("ping processes are bounded; a flow closed meanwhile gets no reply", async () => {
  const context = testContext(PREFIXES);
  const pending: Array<(result: PingResult) => void> = [];
  const forwarder = new PingCommandForwarder(context, {
    platform: "linux",
    maxConcurrent: 2,
    run: () => new Promise((resolve) => pending.push(resolve)),
  });
  for (let sequence = 1; sequence <= 3; sequence++) {
    send(forwarder, echoRequest("198.18.0.1", "198.18.5.2", 5, sequence));
  }
  assert.equal(pending.length, 2);
  assert.equal(context.counters.icmpOverLimit, 1);
  forwarder.close("link lost");
  for (const resolve of pending) resolve({ stdout: fixture("linux-ipv4-reply"), code: 0 });
  await settled(forwarder);
  assert.equal(context.output.packets.length, 0);
  assert.equal(context.table.snapshot()[0]?.closeReason, "link lost");
});

test("a refused destination is answered without running anything", () => {
  const context = testContext(PREFIXES);
  let runs = 0;
  const forwarder = new PingCommandForwarder(context, {
    run: () => {
      runs++;
      return Promise.resolve({ stdout: "", code: 1 });
    },
  });
  send(forwarder, echoRequest("198.18.0.1", "198.18.9.9", 1, 1));
  assert.equal(runs, 0);
  assert.equal(context.counters.refused, 1);
  const reply = parseOutput(context.output.packets[0]!);
  assert.deepEqual(
    [reply.icmp.type, reply.icmp.code],
    [Icmpv4Type.DEST_UNREACHABLE, Icmpv4UnreachableCode.ADMIN_PROHIBITED],
  );
});

test("a reply that cannot be sent is contained: counted, its flow ended, no unhandled rejection", async () => {
  const context = testContext(PREFIXES);
  context.output.send = () => {
    throw new Error("the link broke mid-send");
  };
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => void rejections.push(reason);
  process.on("unhandledRejection", onRejection);
  try {
    const forwarder = new PingCommandForwarder(context, {
      platform: "linux",
      run: printing("linux-ipv4-reply"),
    });
    send(forwarder, echoRequest("198.18.0.1", "198.18.5.2", 9, 1));
    await settled(forwarder);
    await new Promise((resolve) => setTimeout(resolve, 20)); // unhandled rejections are reported by now
    assert.deepEqual(rejections, []);
    assert.equal(context.counters.internalErrors, 1);
    assert.equal(forwarder.flowCount, 0);
    assert.match(context.table.snapshot()[0]?.closeReason ?? "", /the link broke mid-send/);
    forwarder.close("done");
  } finally {
    process.off("unhandledRejection", onRejection);
  }
});

test("the real runner decodes latin1 and gives the exit code of a ping that got no reply", async () => {
  const noReply = "process.stdout.write(Buffer.from([0x72, 0xe9, 0x70])); process.exit(1)";
  assert.deepEqual(await runPing(process.execPath, ["-e", noReply], 10_000), { stdout: "rép", code: 1 });
  assert.deepEqual(await runPing("/nonexistent/ping", [], 10_000), { stdout: "", code: null });
});
