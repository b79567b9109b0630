// The recorder over real exit sides (in this process) and real agent Links on in-memory pipes:
// one file across reconnects, the limit over the whole file, one sentence when it stops.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { Link } from "../../helper/engines/link/link.js";
import { createMemoryPipe } from "../../helper/engines/link/memory-pipe.js";
import { buildUdpPacket, parseAddress } from "../../helper/engines/packet/index.js";
import { inProcessExit, type ExitHandle } from "./exit-handle.js";
import { PacketRecorder } from "./packet-recorder.js";
import { TEST_EXIT_OPTIONS, testAgentLink } from "./helper/testing.js";
import { until } from "../../shared/test-until.js";

/** To an unadvertised destination: the exit answers it with ICMP, nothing leaves this machine. */
const probe = (size: number): Buffer =>
  buildUdpPacket({
    src: parseAddress("198.18.0.2"),
    dst: parseAddress("198.18.200.1"),
    srcPort: 40000,
    dstPort: 9,
    payload: Buffer.alloc(size, 7),
  });

class FakeSession extends EventEmitter<{ exit: [ExitHandle] }> {
  exit: ExitHandle | undefined;

  /** A new link, as after a (re)connect: its agent end and its exit. */
  async connect(): Promise<Link> {
    const [agentSide, mainSide] = createMemoryPipe();
    const agent = testAgentLink(agentSide, 0);
    const exit = await inProcessExit().open(mainSide, TEST_EXIT_OPTIONS);
    await Promise.all([exit.ready, agent.ready]);
    this.exit = exit;
    this.emit("exit", exit);
    return agent;
  }
}

const sections = (file: Buffer): number => {
  let count = 0;
  for (let at = 0; at < file.length; at += file.readUInt32LE(at + 4))
    if (file.readUInt32LE(at) === 0x0a0d0d0a) count++;
  return count;
};

/** A path in a fresh temp directory, removed after the test. */
function tempFile(t: TestContext, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "bh-recorder-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

/** A recorder to `path` over a fake session, and every sentence it says when it stops. */
function recorderTo(path: string, options: { maxBytes: number; replace?: boolean }) {
  const session = new FakeSession();
  const said: string[] = [];
  const recorder = new PacketRecorder(session, {
    path,
    session: "s",
    ...options,
    onStop: (r) => said.push(r),
  });
  return { session, said, recorder };
}

test("one file across a reconnect, a section per link, mode 0600, one sentence at the end", async (t) => {
  const path = tempFile(t, "capture.pcapng");
  writeFileSync(path, "old contents", { mode: 0o644 });
  const { session, said, recorder } = recorderTo(path, { maxBytes: 1_000_000 });
  let agent = await session.connect();
  recorder.start();
  await until(() => recorder.bytes > 0);
  agent.sendPacket(probe(100));
  await until(() => recorder.bytes > 500);
  agent.close("link lost");
  await session.exit?.closed;

  agent = await session.connect();
  await until(() => sections(readFileSync(path)) === 2, 5_000);
  agent.sendPacket(probe(100));
  const final = await recorder.stop();
  agent.close("done");

  assert.match(final, /^capture stopped at 0\.0 MB$/);
  assert.deepEqual(said, [final], "said once");
  const bytes = readFileSync(path);
  assert.equal(sections(bytes), 2);
  assert.ok(!bytes.toString("latin1").includes("old contents"), "a fresh capture replaces the file");
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(recorder.recording, false);
});

test("the limit holds over the whole file: it stops there and says so, and no new section starts", async (t) => {
  const path = tempFile(t, "capture.pcapng");
  const { session, said, recorder } = recorderTo(path, { maxBytes: 8192 });
  const agent = await session.connect();
  recorder.start();
  await until(() => recorder.bytes > 0);
  for (let i = 0; i < 30; i++) agent.sendPacket(probe(400));
  await until(() => said.length === 1);
  assert.deepEqual(said, ["capture stopped at 0.0 MB (limit)"]);
  assert.equal(await recorder.stop(), "capture stopped at 0.0 MB (limit)");
  agent.close("done");
  await session.connect().then((next) => next.close("done"));
  const bytes = readFileSync(path);
  assert.ok(bytes.length <= 8192, `${bytes.length} bytes`);
  assert.equal(sections(bytes), 1);
});

test("a file that must not be replaced is left alone, and the recorder says it could not record", async (t) => {
  const path = tempFile(t, "taken.pcapng");
  writeFileSync(path, "someone else's");
  const { session, said, recorder } = recorderTo(path, { maxBytes: 1_000_000, replace: false });
  const agent = await session.connect();
  recorder.start();
  await until(() => said.length === 1);
  agent.close("done");
  assert.match(said[0]!, /^could not record packets to .*taken\.pcapng: EEXIST/);
  assert.equal(readFileSync(path, "utf8"), "someone else's");
});
