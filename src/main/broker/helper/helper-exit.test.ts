// main's relay between the agent's stream and the helper, against the real helper server on a
// Unix socket in a private temp directory; the agent is a real entrance Link over a memory pipe.
import assert from "node:assert/strict";
import { Duplex, Writable } from "node:stream";
import { test } from "node:test";
import { createMemoryPipe } from "../../../helper/engines/link/memory-pipe.js";
import { helperExit } from "./helper-exit.js";
import { startTestHelperServer, TEST_EXIT_OPTIONS, testAgentLink } from "./testing.js";

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test("after the link closes, main reads the agent's stream to its end: an SSH channel reports its close only then", async (t) => {
  const server = await startTestHelperServer();
  t.after(() => server.close());

  const [agentSide, mainSide] = createMemoryPipe();
  // Like the agent's stdout, which ends only when the agent exits, after it restored the remote.
  let exitAgent: () => void = () => undefined;
  const agentOutput = new Writable({
    write: (chunk: Buffer, _encoding, callback) => void agentSide.write(chunk, callback),
    final: (callback) => {
      exitAgent = () => {
        agentSide.end();
        callback();
      };
    },
  });
  const agent = testAgentLink(Duplex.from({ readable: agentSide, writable: agentOutput }), 0);
  const exit = await helperExit(() => Promise.resolve(server.endpoint)).open(mainSide, TEST_EXIT_OPTIONS);
  await exit.ready;
  await agent.ready;

  const ended = new Promise<void>((resolve) => mainSide.once("end", () => resolve()));
  exit.close("the user disconnected");
  assert.equal((await agent.closed).reason, "the user disconnected");
  await exit.closed;
  await new Promise((resolve) => setTimeout(resolve, 200)); // the helper's link socket has closed
  exitAgent();
  await within(2_000, "the end of the agent's stream", ended);
});

test("access to this computer changed through the helper: each change is answered with the flows it ended; a closed link says so", async (t) => {
  const server = await startTestHelperServer();
  t.after(() => server.close());
  const [agentSide, mainSide] = createMemoryPipe();
  const agent = testAgentLink(agentSide, 0);
  const exit = await helperExit(() => Promise.resolve(server.endpoint)).open(mainSide, TEST_EXIT_OPTIONS);
  await exit.ready;
  await agent.ready;

  assert.equal(await within(5_000, "the answer to on", exit.setAllowLocal(true)), 0);
  assert.equal(await within(5_000, "the answer to off", exit.setAllowLocal(false)), 0, "no flow was open");

  exit.close("test over");
  await exit.closed;
  await assert.rejects(exit.setAllowLocal(true), /the link to the remote is closed/);
});
