// The agent's proxy entrance with a FAKE opener (engines/proxy/fake-stream-opener.ts: real local
// sockets, no link) and a recording packet port: the env file it writes is what a client uses.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { FakeStreamOpener } from "../engines/proxy/fake-stream-opener.js";
import { RecordingPort } from "../engines/port/testing.js";
import { until } from "../../shared/test-until.js";
import { Journal } from "../system/journal.js";
import { proxyEnvPath } from "./proxy-env.js";
import { startProxyEntrance } from "./proxy-entrance.js";
import { systemUndo } from "../system/system-undo.js";
import { fakeProc, tempDir } from "../system/testing.js";
import { lstat, readFile } from "node:fs/promises";

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  const { dir, remove } = await tempDir();
  home = dir;
  cleanup = remove;
});
afterEach(() => cleanup());

test("the entrance writes proxy.env for its port and credentials; a client using them gets through; undo removes it", async () => {
  const echo = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.pipe(socket);
  });
  echo.listen(0, "127.0.0.1");
  await once(echo, "listening");
  const journal = new Journal({
    path: join(home, "state", "journal.json"),
    proc: fakeProc({ [process.pid]: { startTime: "1" } }),
    undo: systemUndo(),
    log: () => undefined,
  });
  await journal.recoverFromPreviousRun();
  const envPath = proxyEnvPath(home);
  const lines: string[] = [];
  const entrance = await startProxyEntrance({
    journal,
    opener: new FakeStreamOpener(),
    packets: new RecordingPort(),
    config: {
      subnetV4: "198.18.0.0/30",
      subnetV6: null,
      mtu: 1500,
      routes: [],
      dns: { mode: "off" },
    } as never,
    envPath,
    log: (line) => lines.push(line),
  });
  try {
    const text = await readFile(envPath, "utf8");
    const match = /^export ALL_PROXY='socks5h:\/\/([^:]+):([^@]+)@127\.0\.0\.1:(\d+)'$/m.exec(text);
    assert.ok(match, text);
    const [user = "", password = "", port = ""] = match.slice(1);
    assert.equal(Number(port), entrance.port);
    assert.match(lines.join("\n"), new RegExp(`127\\.0\\.0\\.1:${entrance.port}`));

    const client = connect({ port: entrance.port, host: "127.0.0.1" });
    let received = Buffer.alloc(0);
    client.on("error", () => undefined);
    client.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    await once(client, "connect");
    const echoPort = (echo.address() as AddressInfo).port;
    client.write(
      Buffer.concat([
        Buffer.from([5, 1, 2, 1, user.length]),
        Buffer.from(user),
        Buffer.from([password.length]),
        Buffer.from(password),
        Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, echoPort >> 8, echoPort & 0xff]),
        Buffer.from("through"),
      ]),
    );
    await until(() => received.length >= 2 + 2 + 10 + 7, 5_000, "the echo through the entrance");
    assert.deepEqual([...received.subarray(0, 5)], [5, 2, 1, 0, 5]);
    assert.equal(received[5], 0, "CONNECT succeeded");
    assert.equal(received.subarray(14).toString(), "through");
    client.destroy();
  } finally {
    await entrance.close();
    echo.close();
  }
  await journal.undoAll();
  await assert.rejects(lstat(envPath), { code: "ENOENT" });
});
