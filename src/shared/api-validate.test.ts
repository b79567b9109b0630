import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_SETTINGS, REQUEST_CHANNELS } from "./api.js";
import { ApiValidationError, canonicalPrefix, validateRequest } from "./api-validate.js";

test("requests without payload accept null or undefined only", () => {
  assert.equal(validateRequest("targets:list", null), null);
  assert.equal(validateRequest("session:get", undefined), null);
  assert.throws(() => validateRequest("session:disconnect", { force: true }), ApiValidationError);
});

test("session:disconnect and capture:start take null (every session, the latest) or one target id", () => {
  for (const channel of ["session:disconnect", "capture:start"] as const) {
    assert.equal(validateRequest(channel, null), null);
    assert.deepEqual(validateRequest(channel, { targetId: "devbox" }), { targetId: "devbox" });
    assert.throws(() => validateRequest(channel, { targetId: "" }), /targetId/);
    assert.throws(() => validateRequest(channel, { targetId: "a", all: true }), /unknown field all/);
  }
  assert.equal(validateRequest("sessions:list", null), null);
});

test("unknown channels are refused", () => {
  assert.throws(() => validateRequest("fs:read" as never, null), /unknown channel "fs:read"/);
  assert.throws(() => validateRequest(42 as never, null), /unknown channel 42/);
});

test("session:connect wants exactly a target id", () => {
  assert.deepEqual(validateRequest("session:connect", { targetId: "codespace:x" }), {
    targetId: "codespace:x",
  });
  assert.throws(() => validateRequest("session:connect", { targetId: "" }), /targetId/);
  assert.throws(() => validateRequest("session:connect", { targetId: "a\nb" }), /control characters/);
  assert.throws(() => validateRequest("session:connect", { targetId: "x".repeat(2000) }), /1 to 1024/);
  assert.throws(() => validateRequest("session:connect", { targetId: "a", cmd: "rm" }), /unknown field cmd/);
  assert.throws(() => validateRequest("session:connect", ["a"]), /takes an object/);
});

test("settings are checked field by field and prefixes made canonical", () => {
  const settings = { ...DEFAULT_SETTINGS, routes: ["10.1.2.3/16", "2001:db8::1/32"], excludes: [] };
  assert.deepEqual(validateRequest("settings:set", settings).routes, ["10.1.0.0/16", "2001:db8::/32"]);
  assert.throws(
    () => validateRequest("settings:set", { ...settings, routes: ["10.0.0.0/33"] }),
    /not a CIDR/,
  );
  assert.throws(() => validateRequest("settings:set", { ...settings, dns: "some" }), /dns must be/);
  assert.throws(() => validateRequest("settings:set", { ...settings, allowLocal: "yes" }), /allowLocal/);
  const { startAtLogin: _unused, ...partial } = settings;
  assert.throws(() => validateRequest("settings:set", partial), /missing startAtLogin/);
  assert.throws(
    () => validateRequest("settings:set", { ...settings, routes: Array(300).fill("10.0.0.0/8") }),
    /at most 256/,
  );
});

test("DNS is split, all or off; split's domains are names, made lower case and listed once", () => {
  for (const dns of ["split", "all", "off"] as const)
    assert.equal(validateRequest("settings:set", { ...DEFAULT_SETTINGS, dns }).dns, dns);
  assert.deepEqual(
    validateRequest("settings:set", {
      ...DEFAULT_SETTINGS,
      dnsDomains: ["Corp.Example.", " lab.test ", "corp.example"],
    }).dnsDomains,
    ["corp.example", "lab.test"],
  );
  for (const dnsDomains of [["not a domain"], "corp.example", [""], ["."]])
    assert.throws(
      () => validateRequest("settings:set", { ...DEFAULT_SETTINGS, dnsDomains }),
      /domain|dnsDomains/,
    );
});

test("the entrance is auto, tun or proxy, and must be given", () => {
  for (const entrance of ["auto", "tun", "proxy"] as const)
    assert.equal(validateRequest("settings:set", { ...DEFAULT_SETTINGS, entrance }).entrance, entrance);
  for (const entrance of ["TUN", "", null, 1, ["proxy"]])
    assert.throws(
      () => validateRequest("settings:set", { ...DEFAULT_SETTINGS, entrance }),
      /entrance must be "auto", "tun" or "proxy"/,
    );
  const { entrance: _unused, ...older } = DEFAULT_SETTINGS;
  assert.throws(() => validateRequest("settings:set", older), /missing entrance/);
  assert.equal(DEFAULT_SETTINGS.entrance, "auto");
});

test("saved exec targets: unique names that name no other target kind, commands that parse", () => {
  const settings = (execTargets: unknown) => ({ ...DEFAULT_SETTINGS, execTargets });
  assert.deepEqual(
    validateRequest(
      "settings:set",
      settings([{ name: " devpod ", command: " kubectl exec -i devpod -- sh " }]),
    ).execTargets,
    [{ name: "devpod", command: "kubectl exec -i devpod -- sh" }],
  );
  const refused: [unknown, RegExp][] = [
    [[{ name: "a" }], /missing command/],
    [[{ name: "a", command: "x", extra: 1 }], /unknown field extra/],
    [[{ name: "a", command: "sh -c 'echo" }], /exec target a: unbalanced single quote/],
    [[{ name: "a", command: "docker exec -i box sh | tee" }], /exec target a: `\|` is a shell operator/],
    [[{ name: "exec:x", command: "sh" }], /cannot be named "exec:x"/],
    [[{ name: "sandbox", command: "sh" }], /cannot be named "sandbox"/],
    [
      [
        { name: "a", command: "sh" },
        { name: "a", command: "bash" },
      ],
      /two exec targets are named "a"/,
    ],
    [[{ name: "a", command: "   " }], /the command is empty/],
    [Array(101).fill({ name: "a", command: "sh" }), /at most 100/],
    ["sh", /execTargets must be a list/],
  ];
  for (const [value, message] of refused)
    assert.throws(() => validateRequest("settings:set", settings(value)), message);
});

test("diagnose:run takes a host name or address and a port", () => {
  assert.deepEqual(validateRequest("diagnose:run", { host: " intranet.corp ", port: 443 }), {
    host: "intranet.corp",
    port: 443,
  });
  assert.deepEqual(validateRequest("diagnose:run", { host: "2001:db8::5", port: 22 }).host, "2001:db8::5");
  assert.throws(() => validateRequest("diagnose:run", { host: "a b", port: 80 }), /host name or an IP/);
  assert.throws(() => validateRequest("diagnose:run", { host: "a", port: 0 }), /port/);
  assert.throws(() => validateRequest("diagnose:run", { host: "a", port: 1.5 }), /port/);
});

test("prompt answers are a string or null", () => {
  assert.deepEqual(validateRequest("prompt:answer", { id: "p1", answer: null }), { id: "p1", answer: null });
  assert.throws(() => validateRequest("prompt:answer", { id: "p1", answer: true }), /string or null/);
});

test("every channel has a validator", () => {
  for (const channel of REQUEST_CHANNELS) {
    // Each either accepts null or refuses it with a validation error — never an unexpected throw.
    try {
      validateRequest(channel, null);
    } catch (error) {
      assert.ok(error instanceof ApiValidationError, `${channel}: ${String(error)}`);
    }
  }
});

test("canonicalPrefix", () => {
  assert.equal(canonicalPrefix("192.168.1.7/24"), "192.168.1.0/24");
  assert.equal(canonicalPrefix("nonsense"), null);
  assert.equal(canonicalPrefix(" 2001:DB8::1/32 "), "2001:db8::/32");
  // The forms the CLI's --route refuses (routes/cidr.ts) are refused here too, not read otherwise:
  // ipaddr.js alone reads "010.0.0.0/8" as octal 8.0.0.0/8 and "10.1/16" as 10.0.0.1/16.
  for (const text of ["010.0.0.0/8", "10.1/16", "10.0.0.0/08", "fe80::1%en0/64", "10.0.0.1"]) {
    assert.equal(canonicalPrefix(text), null, text);
  }
});
