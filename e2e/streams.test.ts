/**
 * Link streams through the real local helper (dist/helper-local.mjs) in a namespace: a proxy
 * entrance's streams to S by name and by address carry an HTTP download and upload intact, and
 * each shows in the helper's control events as a "tcp" flow row; the name as a DNS row.
 * (e2e/streams/lab.ts draws the topology.)
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { until } from "../src/helper/engines/test-until.js";
import { HELPER } from "./exit-hostile/lab.js";
import { deterministicBytes, sha256 } from "./nat/content.js";
import { SERVICE_PORTS } from "./netns/address-plan.js";
import { netnsSkipReason } from "./netns/index.js";
import { whenMet } from "./netns/preconditions.js";
import { buildStreamsLab, exchange, httpBody, SERVER, SERVER_NAME, type StreamsLab } from "./streams/lab.js";

function skipReason(): string | undefined {
  return (
    netnsSkipReason({ tools: ["ip"] }) ??
    (existsSync(HELPER) ? undefined : "dist/ is not built: run `npm run build`")
  );
}

function testInLab(name: string, body: (lab: StreamsLab) => Promise<void>): void {
  test(
    name,
    { timeout: 90_000 },
    whenMet(skipReason, async (t) => {
      const lab = await buildStreamsLab();
      t.after(() => lab.cleanup());
      await body(lab);
    }),
  );
}

const SIZE = 8 * 1024 * 1024;

testInLab(
  "a stream by name downloads from S intact; the flow and the lookup are rows in the helper's tables",
  async (lab) => {
    const body = httpBody(
      await exchange(
        lab.opener,
        { kind: "name", name: SERVER_NAME, port: SERVICE_PORTS.http },
        Buffer.from(`GET /bytes/${SIZE} HTTP/1.1\r\nHost: ${SERVER_NAME}\r\nConnection: close\r\n\r\n`),
      ),
    );
    assert.equal(body.length, SIZE);
    assert.equal(sha256(body), sha256(deterministicBytes(SIZE)));
    await until(
      () =>
        lab.exit.nat.table
          .snapshot()
          .some(
            (row) => row.protocol === "tcp" && row.destination === `${SERVER.v4}:80` && row.downBytes > SIZE,
          ),
      10_000,
      "the stream's flow row",
    );
    await until(
      () =>
        lab.exit.dns?.table
          .snapshot()
          .some((row) => row.name === SERVER_NAME && row.type === "A" && row.transport === "stream") === true,
      10_000,
      "the name's DNS row",
    );
  },
);

testInLab(
  "a stream by address uploads to S intact, then the helper refuses what the policy refuses",
  async (lab) => {
    const upload = deterministicBytes(SIZE, 7);
    const response = await exchange(
      lab.opener,
      { kind: "address", address: SERVER.v4, port: SERVICE_PORTS.http },
      Buffer.concat([
        Buffer.from(
          `POST /upload HTTP/1.1\r\nHost: s\r\nContent-Length: ${SIZE}\r\nConnection: close\r\n\r\n`,
        ),
        upload,
      ]),
    );
    assert.ok(httpBody(response).toString().includes(sha256(upload)), response.toString().slice(-200));
    await assert.rejects(
      lab.opener.open({ kind: "address", address: "198.18.77.1", port: 80 }),
      /egress policy/,
    );
    await until(
      () =>
        lab.exit.nat.table
          .snapshot()
          .some((row) => row.destination === `${SERVER.v4}:80` && row.upBytes > SIZE),
      10_000,
      "the upload's flow row",
    );
  },
);
