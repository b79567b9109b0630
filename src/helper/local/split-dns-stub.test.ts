import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { test } from "node:test";
import {
  a,
  decodeAnswer,
  makeQuery,
  plain,
  rcodeOf,
  scriptedExchange,
  SERVER_A,
  SERVER_B,
} from "../engines/dns/test-support.js";
import { SplitDnsStub, underDomains } from "./split-dns-stub.js";

const REMOTE = { address: "198.18.0.2", port: 53 };

function askUdp(port: number, query: Buffer, timeoutMs = 3_000): Promise<Buffer | null> {
  const socket = createSocket("udp4");
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.close();
      resolve(null);
    }, timeoutMs);
    socket.once("message", (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message);
    });
    socket.send(query, port, "127.0.0.1");
  });
}

function askTcp(port: number, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const frame = Buffer.alloc(2 + query.length);
    frame.writeUInt16BE(query.length, 0);
    query.copy(frame, 2);
    let received = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        socket.end();
        resolve(received.subarray(2, 2 + received.readUInt16BE(0)));
      }
    });
    socket.on("error", reject);
    socket.write(frame);
  });
}

test("names under the domains go to the remote, others to this computer's servers in order", async () => {
  const { exchange, calls } = scriptedExchange((call) => {
    const name = call.query.questions?.[0]?.name ?? "";
    if (call.upstream === SERVER_A) return "timeout";
    return { answers: [a(name, call.upstream === REMOTE ? "198.19.40.10" : "198.51.100.1")] };
  });
  const stub = await SplitDnsStub.start({
    address: "127.0.0.1",
    port: 0,
    domains: ["p.test"],
    remote: [REMOTE],
    others: [SERVER_A, SERVER_B],
    exchange,
  });
  try {
    const port = stub.port;
    const remote = decodeAnswer(await askUdp(port, makeQuery("Web.P.test", { id: 7 })));
    assert.equal(remote.id, 7);
    assert.deepEqual(
      remote.answers?.map((record) => plain(record).data),
      ["198.19.40.10"],
    );
    const other = decodeAnswer(await askUdp(port, makeQuery("www.example.test")));
    assert.deepEqual(
      other.answers?.map((record) => plain(record).data),
      ["198.51.100.1"],
    );
    const overTcp = decodeAnswer(await askTcp(port, makeQuery("db.p.test")));
    assert.deepEqual(
      overTcp.answers?.map((record) => plain(record).data),
      ["198.19.40.10"],
    );
    assert.deepEqual(
      calls.map((call) => [call.query.questions?.[0]?.name, call.upstream.address, call.protocol]),
      [
        ["Web.P.test", "198.18.0.2", "udp"],
        ["www.example.test", "198.18.0.53", "udp"],
        ["www.example.test", "2001:db8::53", "udp"],
        ["db.p.test", "198.18.0.2", "tcp"],
      ],
    );
    assert.equal(await askUdp(port, Buffer.from("not dns"), 300), null, "garbage is dropped");
    assert.deepEqual(stub.counts, { toRemote: 2, toOthers: 1, dropped: 1, failed: 0 });
  } finally {
    await stub.close();
  }
});

test("a name no server answers gets SERVFAIL; a domain matches itself and below, not lookalikes", async () => {
  const { exchange } = scriptedExchange(() => "timeout");
  const stub = await SplitDnsStub.start({
    address: "127.0.0.1",
    port: 0,
    domains: ["p.test"],
    remote: [REMOTE],
    others: [],
    exchange,
  });
  try {
    const answer = await askUdp(stub.port, makeQuery("web.p.test"));
    assert.equal(rcodeOf(answer ?? Buffer.alloc(12)), 2);
    assert.equal(stub.counts.failed, 1);
  } finally {
    await stub.close();
  }
  assert.equal(underDomains("p.test.", ["p.test"]), true);
  assert.equal(underDomains("a.b.P.TEST.", ["p.test"]), true);
  assert.equal(underDomains("notp.test.", ["p.test"]), false);
  assert.equal(underDomains("p.test.evil.", ["p.test"]), false);
});
