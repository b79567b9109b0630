import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import { test } from "node:test";
import { resetSocket } from "./socket-reset.js";

async function connectedPair(): Promise<{ client: Socket; served: Socket; close(): void }> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const client = connect((server.address() as { port: number }).port, "127.0.0.1");
  await once(client, "connect");
  const [served] = await accepted;
  return { client, served, close: () => server.close() };
}

test("a socket that can still send is reset: its peer sees ECONNRESET", async () => {
  const pair = await connectedPair();
  try {
    const error = once(pair.served, "error") as Promise<[NodeJS.ErrnoException]>;
    resetSocket(pair.client);
    assert.equal((await error)[0].code, "ECONNRESET");
  } finally {
    pair.served.destroy();
    pair.close();
  }
});

test("a socket whose end() is still going out closes, and the process exits (resetAndDestroy spun at full CPU)", () => {
  // In a child of its own: the old way never let the event loop end. The peer ends first; this
  // side answers with end() and is aborted before its shutdown completes, as the NAT engine's
  // flows were when a link ended just after a remote's FIN.
  const script = `
    import { once } from "node:events";
    import { connect, createServer } from "node:net";
    import { resetSocket } from ${JSON.stringify(new URL("./socket-reset.ts", import.meta.url).href)};
    const server = createServer({ allowHalfOpen: true }, (served) => {
      served.on("error", () => {});
      served.resume();
      served.end();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const client = connect({ port: server.address().port, host: "127.0.0.1", allowHalfOpen: true });
    client.on("error", (error) => console.log("error " + error.code));
    client.resume();
    await once(client, "end");
    client.end();
    resetSocket(client);
    server.close();
    console.log("closed");`;
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 10_000,
  });
  assert.equal(result.error, undefined, "the child exited within 10 s");
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), "closed", "no error either");
});
