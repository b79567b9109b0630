// Identity files: plain and encrypted keys, the passphrase prompt and its retry limit.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AuthFailedError } from "./errors.js";
import { generateEd25519KeyPair } from "./generate-key.js";
import { loadIdentity, PASSPHRASE_ATTEMPTS } from "./identities.js";

async function keyFiles(t: { after: (fn: () => Promise<void>) => void }): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), "backhaul-identities-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const plain = generateEd25519KeyPair();
  const encrypted = generateEd25519KeyPair({
    passphrase: "right",
    cipher: "aes256-ctr",
    rounds: 4,
  });
  const files = {
    plain: join(dir, "id_plain"),
    encrypted: join(dir, "id_encrypted"),
    publicOnly: join(dir, "id_plain.pub"),
    junk: join(dir, "junk"),
  };
  await writeFile(files.plain, plain.private);
  await writeFile(files.encrypted, encrypted.private);
  await writeFile(files.publicOnly, plain.public);
  await writeFile(files.junk, "not a key\n");
  return files;
}

test("a plain key loads without asking anything", async (t) => {
  const files = await keyFiles(t);
  const result = await loadIdentity(files.plain!, () => assert.fail("no prompt for a plain key"));
  assert.equal(result.status, "loaded");
});

test("an encrypted key asks for its passphrase, again after a wrong one", async (t) => {
  const files = await keyFiles(t);
  const answers = ["wrong", "right"];
  const asked: string[] = [];
  const result = await loadIdentity(files.encrypted!, async (file) => {
    asked.push(file);
    return answers.shift() ?? null;
  });
  assert.equal(result.status, "loaded");
  assert.deepEqual(asked, [files.encrypted, files.encrypted]);
});

test(`gives up after ${PASSPHRASE_ATTEMPTS} wrong passphrases, or at once when the user declines`, async (t) => {
  const files = await keyFiles(t);
  let asked = 0;
  const wrong = await loadIdentity(files.encrypted!, async () => {
    asked++;
    return "nope";
  });
  assert.deepEqual(wrong, { status: "skipped", file: files.encrypted, reason: "wrong passphrase (3 tries)" });
  assert.equal(asked, PASSPHRASE_ATTEMPTS);
  const declined = await loadIdentity(files.encrypted!, async () => null);
  assert.equal(declined.status, "skipped");
  const noPrompt = await loadIdentity(files.encrypted!);
  assert.equal(noPrompt.status, "skipped");
});

test("missing files, public keys and junk are reported, never thrown", async (t) => {
  const files = await keyFiles(t);
  assert.equal((await loadIdentity(`${files.plain}-nope`)).status, "missing");
  const publicOnly = await loadIdentity(files.publicOnly!);
  assert.deepEqual(
    publicOnly.status === "skipped" && publicOnly.reason,
    "holds a public key, not a private one",
  );
  assert.equal((await loadIdentity(files.junk!)).status, "skipped");
});

test("AuthFailedError lists what was tried and what to do", () => {
  const error = new AuthFailedError(
    "bhdev",
    "box.test",
    [
      { source: "ssh-agent (/tmp/agent.sock)", outcome: "holds no keys" },
      { source: "/home/me/.ssh/id_ed25519", outcome: "refused by the server" },
    ],
    ["publickey", "password"],
  );
  assert.match(error.message, /bhdev@box\.test did not accept any of our keys/);
  assert.match(error.message, /ssh-agent \(\/tmp\/agent\.sock\): holds no keys/);
  assert.match(error.message, /id_ed25519: refused by the server/);
  assert.match(error.message, /The server accepts: publickey, password/);
  assert.match(error.message, /ssh-add/);
  assert.match(error.message, /-i FILE/);
});
