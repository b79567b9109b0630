// main's relay between the agent's stream and the helper, against the real helper server on a
// Unix socket in a private temp directory; the agent is a real entrance Link over a memory pipe.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex, Writable } from "node:stream";
import { test } from "node:test";
import type { HelperExitOptions } from "../../../shared/helper-protocol.js";
import { VERSION } from "../../../shared/version.js";
import { startHelperServer } from "../../../helper/local-server.js";
import { Link } from "../../../helper/link/link.js";
import { createMemoryPipe } from "../../../helper/link/memory-pipe.js";
import { helperExit } from "./helper-exit.js";

const TOKEN = "b".repeat(64);
const OPTIONS: HelperExitOptions = {
  mtu: 1500,
  subnetV4: "198.18.0.0/30",
  subnetV6: null,
  routes: ["198.19.0.0/16"],
  allowLocal: false,
  dns: "off",
  keepaliveIntervalMs: 0,
  pingTimeoutMs: 5_000,
};

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test("after the link closes, main reads the agent's stream to its end: an SSH channel reports its close only then", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "bh-helper-exit-test-"));
  const server = await startHelperServer({
    socketPath: join(dir, "helper.sock"),
    token: TOKEN,
    log: () => undefined,
    onShutdown: () => undefined,
  });
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

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
  const agent = new Link(Duplex.from({ readable: agentSide, writable: agentOutput }), {
    role: "entrance",
    softwareVersion: VERSION,
    capabilities: 0,
  });
  const exit = await helperExit(() =>
    Promise.resolve({ socketPath: join(dir, "helper.sock"), token: TOKEN }),
  ).open(mainSide, OPTIONS);
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
