import assert from "node:assert/strict";
import { test } from "node:test";
import {
  encodeReply,
  encodeUdpHeader,
  parseGreeting,
  parseRequest,
  parseUdpHeader,
  parseUserPass,
  Reply,
} from "./socks5-wire.js";

const bytes = (...values: number[]): Buffer => Buffer.from(values);

test("greeting: methods are read whole, a truncated one waits, a wrong version or no method is refused", () => {
  assert.deepEqual(parseGreeting(bytes(5, 2, 0, 2)), { status: "ok", value: { methods: [0, 2] }, length: 4 });
  assert.equal(parseGreeting(bytes(5)).status, "incomplete");
  assert.equal(parseGreeting(bytes(5, 3, 0)).status, "incomplete");
  assert.equal(parseGreeting(bytes(4, 1, 0)).status, "invalid");
  assert.equal(parseGreeting(bytes(5, 0)).status, "invalid");
});

test("username/password (RFC 1929): fields by their lengths, truncation waits, version 1 only", () => {
  const message = Buffer.concat([bytes(1, 3), Buffer.from("bob"), bytes(2), Buffer.from("pw"), bytes(9)]);
  const result = parseUserPass(message);
  assert.equal(result.status, "ok");
  if (result.status !== "ok") return;
  assert.equal(result.value.username.toString(), "bob");
  assert.equal(result.value.password.toString(), "pw");
  assert.equal(result.length, 8);
  for (let cut = 0; cut < 8; cut++)
    assert.equal(parseUserPass(message.subarray(0, cut)).status, "incomplete");
  assert.equal(parseUserPass(bytes(5, 0, 0)).status, "invalid");
});

test("request: CONNECT to IPv4, IPv6 and a name; unknown address types get reply 8", () => {
  assert.deepEqual(parseRequest(bytes(5, 1, 0, 1, 198, 18, 0, 1, 0, 80)), {
    status: "ok",
    value: { command: 1, target: { kind: "address", address: "198.18.0.1", port: 80 } },
    length: 10,
  });
  const v6 = parseRequest(
    Buffer.concat([bytes(5, 1, 0, 4, 0x20, 1, 0x0d, 0xb8), Buffer.alloc(11), bytes(1, 1, 187)]),
  );
  assert.deepEqual(v6.status === "ok" && v6.value.target, {
    kind: "address",
    address: "2001:db8::1",
    port: 443,
  });
  const name = parseRequest(Buffer.concat([bytes(5, 1, 0, 3, 8), Buffer.from("web.test"), bytes(0, 80)]));
  assert.deepEqual(name.status === "ok" && name.value.target, { kind: "name", name: "web.test", port: 80 });
  assert.deepEqual(parseRequest(bytes(5, 1, 0, 9, 1, 2)), {
    status: "refused",
    reply: Reply.AddressTypeNotSupported,
    reason: "address type 9",
  });
});

test("request: truncation waits, a wrong version, an empty name or a name with control bytes is refused", () => {
  const whole = bytes(5, 1, 0, 1, 198, 18, 0, 1, 0, 80);
  for (let cut = 0; cut < whole.length; cut++)
    assert.equal(parseRequest(whole.subarray(0, cut)).status, "incomplete");
  assert.equal(parseRequest(bytes(4, 1, 0, 1, 1, 2, 3, 4, 0, 80)).status, "invalid");
  assert.equal(parseRequest(bytes(5, 1, 0, 3, 0, 0, 80)).status, "invalid");
  const control = parseRequest(Buffer.concat([bytes(5, 1, 0, 3, 3), Buffer.from("a\nb"), bytes(0, 80)]));
  assert.equal(control.status, "refused");
});

test("replies carry the bound address, or 0.0.0.0:0 without one", () => {
  assert.deepEqual(encodeReply(Reply.Refused), bytes(5, 5, 0, 1, 0, 0, 0, 0, 0, 0));
  assert.deepEqual(
    encodeReply(Reply.Succeeded, { address: "127.0.0.1", port: 1080 }),
    bytes(5, 0, 0, 1, 127, 0, 0, 1, 4, 56),
  );
});

test("UDP header (RFC 1928 section 7): parsed with its data offset; fragments and bad input dropped", () => {
  const header = encodeUdpHeader({ address: "198.18.0.9", port: 7 });
  const datagram = Buffer.concat([header, Buffer.from("ping")]);
  const parsed = parseUdpHeader(datagram);
  assert.notEqual(typeof parsed, "string");
  if (typeof parsed === "string") return;
  assert.deepEqual(parsed.target, { kind: "address", address: "198.18.0.9", port: 7 });
  assert.equal(datagram.subarray(parsed.dataOffset).toString(), "ping");
  const fragment = Buffer.from(datagram);
  fragment[2] = 1;
  assert.match(String(parseUdpHeader(fragment)), /fragment/);
  assert.equal(typeof parseUdpHeader(bytes(0, 0)), "string");
  assert.equal(typeof parseUdpHeader(bytes(0, 0, 0, 1, 1, 2)), "string");
  assert.equal(typeof parseUdpHeader(bytes(1, 0, 0, 1, 1, 2, 3, 4, 0, 1)), "string");
});
