import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSocksOption } from "./socks-option.js";
import { UsageError } from "./usage-error.js";

describe("--socks [ADDR:]PORT", () => {
  it("takes a port alone (loopback), an IPv4 address or a bracketed IPv6 one", () => {
    assert.deepEqual(parseSocksOption("1080"), { port: 1080 });
    assert.deepEqual(parseSocksOption("198.18.9.1:1080"), { host: "198.18.9.1", port: 1080 });
    assert.deepEqual(parseSocksOption("[::1]:9050"), { host: "::1", port: 9050 });
  });

  it("refuses names, port 0, ports over 65535 and unbracketed IPv6, saying the form", () => {
    for (const bad of ["localhost:1080", "0", "70000", "::1:1080", "1.2.3:80", "", "[zz]:80"]) {
      assert.throws(
        () => parseSocksOption(bad),
        (error: unknown) => error instanceof UsageError && /\[ADDR:\]PORT/.test(error.message),
        bad,
      );
    }
  });
});
