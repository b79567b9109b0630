import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  MAX_DIAGNOSE_PAYLOAD,
  MAX_DIAGNOSE_TEXT,
  decodeDiagnoseRequest,
  decodeRemoteDiagnosis,
  encodeDiagnoseRequest,
  encodeRemoteDiagnosis,
  type RemoteDiagnosis,
} from "./diagnose-frames.js";
import { LinkError } from "./link-protocol.js";
import { insideRemoteNetworkRoute } from "./test-remote-route.js";

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), "utf8");

const good: RemoteDiagnosis = {
  id: 7,
  entrance: "tun",
  dns: {
    addresses: ["198.19.1.10", "2001:db8:19:1::10"],
    error: null,
    latencyMs: 1.5,
    viaStub: true,
    servers: ["198.18.0.2"],
  },
  address: "198.19.1.10",
  route: insideRemoteNetworkRoute("eth0"),
  connect: { ok: false, latencyMs: 0.4, error: "connect ECONNREFUSED 198.19.1.10:81", code: "ECONNREFUSED" },
  error: null,
};

test("a DIAGNOSE and its result go through encode and decode unchanged", () => {
  const request = { id: 1, host: "vault.corp.test", port: 5432, address: "198.19.1.10" };
  assert.deepEqual(decodeDiagnoseRequest(encodeDiagnoseRequest(request)), request);
  assert.deepEqual(decodeRemoteDiagnosis(encodeRemoteDiagnosis(good)), good);
});

test("a DIAGNOSE's host is a name or an address, in canonical form: nothing a command line could misread", () => {
  const decode = (host: unknown, extra: Record<string, unknown> = {}) =>
    decodeDiagnoseRequest(json({ id: 1, host, port: 80, address: null, ...extra }));
  assert.equal(decode("2001:DB8:0::1").host, "2001:db8::1");
  for (const host of ["-oProxyCommand=x", "a b", "$(reboot)", "a;b", "", "x".repeat(254), 12, null, "a..b"])
    assert.throws(() => decode(host), LinkError, String(host));
  assert.throws(() => decode("a", { port: 0 }), /port/);
  assert.throws(() => decode("a", { port: 70000 }), /port/);
  assert.throws(() => decode("a", { id: -1 }), /id/);
  assert.throws(() => decode("a", { address: "10.1" }), /address/);
});

test("a result's text is sanitised and cut short, its addresses must be addresses", () => {
  const hostile = structuredClone(good) as unknown as Record<string, Record<string, unknown>>;
  hostile.route!.skipped = {
    prefix: "198.19.1.0/24",
    reason: "inside-remote-network",
    message: `\u001b]52;c;${"A".repeat(5000)}\u0007\u202enormal`,
  };
  const decoded = decodeRemoteDiagnosis(json(hostile));
  const message = decoded.route?.skipped?.message ?? "";
  assert.ok(!message.includes("\u001b") && !message.includes("\u202e"), message);
  assert.ok(Array.from(message).length <= MAX_DIAGNOSE_TEXT + 1);

  const withField = (path: string[], value: unknown): Buffer => {
    const copy = structuredClone(good) as unknown as Record<string, unknown>;
    let at = copy;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[path.at(-1)!] = value;
    return json(copy);
  };
  const refused: Array<[string[], unknown]> = [
    [["dns", "addresses"], ["not an address"]],
    [["dns", "addresses"], Array.from({ length: 17 }, () => "198.19.1.1")],
    [["dns", "latencyMs"], -1],
    [["dns", "latencyMs"], Number.POSITIVE_INFINITY],
    [["route", "dev"], "eth0 evil"],
    [["route", "dev"], "x".repeat(16)],
    [["route", "skipped", "reason"], "because"],
    [["route", "ownRoute", "kind"], "mine"],
    [["route", "tunnelPrefix"], "198.19.0.0/99"],
    [["connect", "code"], "econnrefused; rm"],
    [["connect", "ok"], "yes"],
    [["entrance"], "tap"],
    [["id"], 2 ** 32],
  ];
  for (const [path, value] of refused)
    assert.throws(() => decodeRemoteDiagnosis(withField(path, value)), LinkError, path.join("."));
  assert.throws(() => decodeRemoteDiagnosis(Buffer.alloc(MAX_DIAGNOSE_PAYLOAD + 1, 0x20)), /over/);
  assert.throws(() => decodeRemoteDiagnosis(Buffer.from("{")), /not JSON/);
  // Unknown fields are dropped, not kept.
  const extra = decodeRemoteDiagnosis(json({ ...good, evil: "x" })) as unknown as Record<string, unknown>;
  assert.equal("evil" in extra, false);
});

test("any bytes: decoding throws only LinkError", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.json().map((text) => Buffer.from(text)),
      ),
      (bytes) => {
        for (const decode of [decodeDiagnoseRequest, decodeRemoteDiagnosis]) {
          try {
            decode(Buffer.from(bytes));
          } catch (error) {
            assert.ok(error instanceof LinkError, String(error));
          }
        }
      },
    ),
    { numRuns: 2000 },
  );
});
