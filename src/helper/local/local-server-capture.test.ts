// Packet capture through the real helper server: main opens the file, the helper streams pcapng
// over a capture connection. The agent is a real entrance Link over an in-memory pipe; its
// packets go to an unadvertised destination, so the exit answers them itself (ICMP) and no
// packet leaves this machine.
import assert from "node:assert/strict";
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { helperExit } from "../../main/broker/helper/helper-exit.js";
import { HelperRefusedError, openHelperCapture } from "../../main/broker/helper/helper-client.js";
import {
  startTestHelperServer,
  TEST_EXIT_OPTIONS,
  TEST_TOKEN,
  testAgentLink,
} from "../../main/broker/helper/testing.js";
import type { ExitHandle } from "../../main/broker/exit-handle.js";
import type { Link } from "../engines/link/link.js";
import { createMemoryPipe } from "../engines/link/memory-pipe.js";
import { buildUdpPacket, parseAddress } from "../engines/packet/index.js";
import { until } from "../../shared/test-until.js";

/** To a destination the exit does not route: it answers with ICMP, nothing leaves. */
const probe = (index: number): Buffer =>
  buildUdpPacket({
    src: parseAddress("198.18.0.2"),
    dst: parseAddress("198.18.200.1"),
    srcPort: 40000 + index,
    dstPort: 9,
    payload: Buffer.alloc(200, index),
  });

async function withLink(
  run: (exit: ExitHandle, agent: Link, dir: string) => Promise<void>,
  options = TEST_EXIT_OPTIONS,
  awaitReady = true,
): Promise<void> {
  const server = await startTestHelperServer();
  const [agentSide, mainSide] = createMemoryPipe();
  const agent = testAgentLink(agentSide);
  try {
    const exit = await helperExit(() => Promise.resolve(server.endpoint)).open(mainSide, options);
    if (awaitReady) await Promise.all([exit.ready, agent.ready]);
    await run(exit, agent, server.dir);
  } finally {
    agent.close("test over");
    await server.close();
  }
}

/** Each enhanced packet block's interface (0 from the remote, 1 to it) and IP protocol. */
function packetsIn(file: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let at = 0; at < file.length; at += file.readUInt32LE(at + 4)) {
    if (file.readUInt32LE(at) !== 6) continue;
    out.push([file.readUInt32LE(at + 8), file[at + 28 + 9]!]);
  }
  return out;
}

test("main records a link's packets through the helper, both directions, and stops on request", () =>
  withLink(async (exit, agent, dir) => {
    const path = join(dir, "capture.pcapng");
    const file = createWriteStream(path, { mode: 0o600 });
    const answers: Buffer[] = [];
    agent.on("packets", (packets) => answers.push(...packets));
    const capture = await exit.startCapture(file, { maxBytes: 1_000_000, session: "test-session" });
    agent.sendPacket(probe(1));
    await until(() => answers.length === 1);
    await until(() => capture.bytes > 400); // the answer reached the file's relay
    capture.stop();
    assert.equal(await capture.ended, `capture stopped at 0.0 MB`);
    const bytes = readFileSync(path);
    assert.equal(bytes.length, capture.bytes);
    assert.deepEqual(packetsIn(bytes), [
      [0, 17], // the remote's UDP
      [1, 1], // the exit's ICMP answer
    ]);
    assert.match(bytes.toString("latin1"), /test-session from remote/);
  }));

test("a capture that reaches its limit ends a complete file and says why", () =>
  withLink(async (exit, agent, dir) => {
    const path = join(dir, "limited.pcapng");
    const file = createWriteStream(path, { mode: 0o600 });
    const capture = await exit.startCapture(file, { maxBytes: 4096, session: "s" });
    for (let i = 0; i < 40; i++) agent.sendPacket(probe(i));
    assert.equal(await capture.ended, "capture stopped at 0.0 MB (limit)");
    const bytes = readFileSync(path);
    assert.ok(bytes.length <= 4096 && bytes.length > 3000, `${bytes.length} bytes`);
    assert.ok(packetsIn(bytes).length >= 10, "whole blocks, up to the limit");
  }));

test("a file that fails (disk full) stops the capture and says so; no capture for an unknown link", () =>
  withLink(async (exit, agent, dir) => {
    const full = new Writable({
      write: (_chunk, _encoding, done) => done(Object.assign(new Error("no space"), { code: "ENOSPC" })),
    });
    const capture = await exit.startCapture(full, { maxBytes: 1_000_000, session: "s" });
    let answers = 0;
    agent.on("packets", (packets) => (answers += packets.length));
    agent.sendPacket(probe(2));
    assert.equal(await capture.ended, "capture stopped at 0.0 MB: disk full");

    await assert.rejects(
      openHelperCapture({ socketPath: join(dir, "helper.sock"), token: TEST_TOKEN }, "f".repeat(32), {
        maxBytes: 4096,
        session: "s",
      }),
      (error) => error instanceof HelperRefusedError && /no such link/.test(error.message),
    );
    agent.sendPacket(probe(3));
    await until(() => answers === 2); // the link still runs: both probes were answered
  }));

// The helper refuses a capture for a link whose engines have not started yet; main asks only
// after the link and its control connection are both set up, a round trip later than the start.
test("a capture asked for as soon as the link is open, before the handshake, records", () =>
  withLink(
    async (exit, agent, dir) => {
      const capture = await exit.startCapture(createWriteStream(join(dir, "early.pcapng"), { mode: 0o600 }), {
        maxBytes: 1_000_000,
        session: "s",
      });
      agent.sendPacket(probe(4));
      await until(() => capture.bytes > 300);
      capture.stop();
      assert.equal(await capture.ended, "capture stopped at 0.0 MB");
    },
    { ...TEST_EXIT_OPTIONS, dns: "all" }, // the DNS engine's TCP server makes the exit's start take a while
    false,
  ));
