import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TargetError } from "./errors.js";
import { parseSshAddress, parseSshUrl, parseUserAtHost } from "./ssh-url.js";

/** Asserts a bad-spec TargetError whose message contains `hint` (what to type instead). */
function refuses(text: string, hint: string | RegExp): void {
  assert.throws(
    () => parseSshAddress(text),
    (error: unknown) => {
      assert.ok(error instanceof TargetError, `expected a TargetError for ${text}`);
      assert.equal(error.code, "bad-spec");
      if (typeof hint === "string")
        assert.ok(error.message.includes(hint), `"${error.message}" lacks "${hint}"`);
      else assert.match(error.message, hint);
      return true;
    },
  );
}

describe("parseSshUrl", () => {
  test("user, host and port", () => {
    assert.deepEqual(parseSshUrl("ssh://alice@dev.example.test:2222"), {
      user: "alice",
      host: "dev.example.test",
      port: 2222,
    });
  });

  test("the parts left out are null; a trailing slash and the scheme's case do not matter", () => {
    assert.deepEqual(parseSshUrl("ssh://dev.example.test"), {
      user: null,
      host: "dev.example.test",
      port: null,
    });
    assert.deepEqual(parseSshUrl("SSH://198.18.0.5/"), { user: null, host: "198.18.0.5", port: null });
    assert.deepEqual(parseSshUrl("  ssh://bob@h  "), { user: "bob", host: "h", port: null });
  });

  test("IPv6 in brackets, with and without a port", () => {
    assert.deepEqual(parseSshUrl("ssh://root@[2001:db8::10]:22"), {
      user: "root",
      host: "2001:db8::10",
      port: 22,
    });
    assert.deepEqual(parseSshUrl("ssh://[2001:db8::10]"), { user: null, host: "2001:db8::10", port: null });
  });

  test("a percent-encoded user, split at the last '@'", () => {
    assert.deepEqual(parseSshUrl("ssh://first.last%40corp@h:22"), {
      user: "first.last@corp",
      host: "h",
      port: 22,
    });
    assert.deepEqual(parseSshUrl("ssh://a@b@h"), { user: "a@b", host: "h", port: null });
  });

  test("refusals say what to type instead", () => {
    refuses("ssh://2001:db8::10:22", "put an IPv6 address in brackets: ssh://[2001:db8::10:22]");
    refuses("ssh://h:0", `the port "0" is not a number from 1 to 65535`);
    refuses("ssh://h:65536", "65535");
    refuses("ssh://h:ssh", "65535");
    refuses("ssh://h/home/me", "a target has no path or query: type ssh://h");
    refuses("ssh://user;fingerprint=SHA256-abc@h", "parameters after ';'");
    refuses("ssh://@h", "nothing before '@'");
    refuses("ssh://", "it names no host");
    refuses("ssh://[2001:db8::10", "has no ']'");
    refuses("ssh://[h]", `"h" is not an IPv6 address`);
    refuses("ssh://[2001:db8::1]x", "after ']' only :port may follow");
    refuses("ssh://-oProxyCommand=x", "is not a host name");
    refuses("ssh://bad%zzuser@h", "'%'");
  });
});

describe("parseUserAtHost", () => {
  test("host, user@host, and IPv6 with or without brackets", () => {
    assert.deepEqual(parseUserAtHost("dev.example.test"), {
      user: null,
      host: "dev.example.test",
      port: null,
    });
    assert.deepEqual(parseUserAtHost("alice@198.18.0.5"), { user: "alice", host: "198.18.0.5", port: null });
    assert.deepEqual(parseUserAtHost("2001:db8::7"), { user: null, host: "2001:db8::7", port: null });
    assert.deepEqual(parseUserAtHost("alice@[2001:db8::7]"), {
      user: "alice",
      host: "2001:db8::7",
      port: null,
    });
  });

  test("host:port is not shorthand ssh takes: the message gives the URL to type", () => {
    refuses("alice@dev:2222", "to give a port, type ssh://alice@dev:2222");
    refuses("dev:2222", "type ssh://dev:2222");
    refuses("[2001:db8::7]:22", "type ssh://[2001:db8::7]:22");
  });

  test("nonsense is refused with the forms that work", () => {
    refuses(
      "",
      /No target given: type a Host from ~\/\.ssh\/config, user@host, ssh:\/\/user@host:port, or codespace:NAME/,
    );
    refuses("two words", `"two words" is not a host name`);
    refuses("alice@", "it names no host");
    refuses("-l@h", "not a user name");
    refuses("a$(id)@h", "not a user name");
  });
});
