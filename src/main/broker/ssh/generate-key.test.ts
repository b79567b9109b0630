// Generated key pairs are checked before use: ssh2's generator makes a malformed one now and then.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import ssh2 from "ssh2";
import { generateEd25519KeyPair, type KeyPairGenerator, type KeyPairText } from "./generate-key.js";

/** ssh2's generator, but the first `bad` pairs are made malformed the way given. */
function failingFirst(
  bad: number,
  spoil: (pair: KeyPairText) => KeyPairText,
): {
  generate: KeyPairGenerator;
  calls: () => number;
} {
  let calls = 0;
  return {
    generate: (options) => {
      const pair = ssh2.utils.generateKeyPairSync("ed25519", options);
      return ++calls <= bad ? spoil(pair) : pair;
    },
    calls: () => calls,
  };
}

const truncated = (pair: KeyPairText): KeyPairText => {
  const lines = pair.private.trim().split("\n");
  return { ...pair, private: [...lines.slice(0, 2), lines.at(-1)!].join("\n") + "\n" };
};

test("a malformed private key is never handed out: the next pair is", () => {
  const source = failingFirst(2, truncated);
  const pair = generateEd25519KeyPair({ comment: "" }, source.generate);
  assert.equal(source.calls(), 3);
  const parsed = ssh2.utils.parseKey(pair.private);
  assert.ok(!(parsed instanceof Error) && parsed.type === "ssh-ed25519");
});

test("a public half that is not the private key's is refused too", () => {
  const other = ssh2.utils.generateKeyPairSync("ed25519").public;
  const source = failingFirst(1, (pair) => ({ ...pair, public: other }));
  const pair = generateEd25519KeyPair({}, source.generate);
  assert.equal(source.calls(), 2);
  assert.notEqual(pair.public, other);
});

test("an encrypted key is checked with its passphrase", () => {
  const options = { passphrase: "right", cipher: "aes256-ctr", rounds: 4 };
  const pair = generateEd25519KeyPair(options, failingFirst(1, truncated).generate);
  assert.ok(ssh2.utils.parseKey(pair.private, "wrong") instanceof Error);
  assert.ok(!(ssh2.utils.parseKey(pair.private, "right") instanceof Error));
});

test("gives up with an Error after eight malformed pairs in a row", () => {
  const source = failingFirst(8, truncated);
  assert.throws(() => generateEd25519KeyPair({}, source.generate), /8 malformed Ed25519 keys in a row/);
  assert.equal(source.calls(), 8);
});

test("every pair it hands out is one OpenSSH reads: 1,000 in a row (ssh2 alone spoils ~3 in 1,000)", () => {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-keys-"));
  try {
    const file = join(dir, "key");
    for (let i = 0; i < 1000; i++) {
      const pair = generateEd25519KeyPair();
      assert.ok(!(ssh2.utils.parseKey(pair.private) instanceof Error), `pair ${i} parses`);
      if (i % 250 === 0) {
        writeFileSync(file, pair.private, { mode: 0o600 });
        const derived = execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim();
        assert.equal(
          derived.split(" ").slice(0, 2).join(" "),
          pair.public.trim().split(" ").slice(0, 2).join(" "),
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
