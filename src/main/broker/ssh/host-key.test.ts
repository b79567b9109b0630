// Host key policy: what is refused, what is recorded where, and what the refusals say.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { HostKeyChangedError, HostKeyOtherTypeError, HostKeyUnknownError } from "./errors.js";
import { preferredHostKeyAlgorithms, verifyHostKey, type HostKeyCheckOptions } from "./host-key.js";
import { loadKnownHosts, recordHostKey } from "./known-hosts-file.js";
import { formatKnownHostsLine } from "./known-hosts.js";

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

async function publicKey(name: string): Promise<Buffer> {
  const [, base64] = (await readFile(fixture(`${name}.pub`), "utf8")).split(" ");
  return Buffer.from(base64 ?? "", "base64");
}

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "backhaul-hostkey-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function options(file: string, extra: Partial<HostKeyCheckOptions> = {}): Promise<HostKeyCheckOptions> {
  const known = await loadKnownHosts([file]);
  return { name: "alpha.test", entries: known.entries, knownHostsFiles: [file], policy: "strict", ...extra };
}

test("strict refuses an unknown key with HostKeyUnknownError and records nothing", async (t) => {
  const file = join(await scratch(t), "known_hosts");
  const key = await publicKey("alpha-ed25519");
  await assert.rejects(verifyHostKey(key, await options(file)), (error: unknown) => {
    assert.ok(error instanceof HostKeyUnknownError);
    assert.match(error.message, /SHA256:v7lYyXaxEgB7PLLOVQt11TeBi0FNgvt59B9cSs0SIhY/);
    assert.match(error.message, /strict/);
    return true;
  });
  await assert.rejects(stat(file), /ENOENT/);
});

test("accept-new records the key in the first file, creating .ssh 0700 and the file 0600", async (t) => {
  const dir = await scratch(t);
  const file = join(dir, ".ssh", "known_hosts");
  const key = await publicKey("alpha-ed25519");
  await verifyHostKey(key, await options(file, { policy: "accept-new" }));
  assert.equal((await stat(join(dir, ".ssh"))).mode & 0o777, 0o700);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal(await readFile(file, "utf8"), `${formatKnownHostsLine("alpha.test", key)}\n`);
  await verifyHostKey(key, await options(file)); // known now, even under strict
});

test("the confirm callback decides about unknown keys; its answer no is a refusal", async (t) => {
  const file = join(await scratch(t), "known_hosts");
  const key = await publicKey("alpha-ed25519");
  const asked: string[] = [];
  const no = await options(file, {
    confirmNewHostKey: async (info) => {
      asked.push(`${info.host} ${info.keyType} ${info.fingerprintSha256}`);
      return false;
    },
  });
  await assert.rejects(verifyHostKey(key, no), /you did not accept it/);
  assert.deepEqual(asked, ["alpha.test ssh-ed25519 SHA256:v7lYyXaxEgB7PLLOVQt11TeBi0FNgvt59B9cSs0SIhY"]);
  await verifyHostKey(key, await options(file, { confirmNewHostKey: async () => true }));
  assert.match(await readFile(file, "utf8"), /^alpha\.test ssh-ed25519 /);
});

test("a changed key is refused loudly under every policy but off, naming file, line and both fingerprints", async (t) => {
  const file = join(await scratch(t), "known_hosts");
  await writeFile(file, `# mine\n${formatKnownHostsLine("alpha.test", await publicKey("beta-ed25519"))}\n`);
  const key = await publicKey("alpha-ed25519");
  for (const policy of ["strict", "accept-new"] as const) {
    const opts = await options(file, { policy, confirmNewHostKey: async () => true });
    await assert.rejects(verifyHostKey(key, opts), (error: unknown) => {
      assert.ok(error instanceof HostKeyChangedError);
      assert.match(error.message, /HOST KEY OF alpha\.test HAS CHANGED/);
      assert.match(error.message, /man-in-the-middle/);
      assert.match(error.message, new RegExp(`${file} line 2`));
      assert.match(error.message, /SHA256:v7lYyXaxEgB7PLLOVQt11TeBi0FNgvt59B9cSs0SIhY/, "the key seen");
      assert.match(error.message, /SHA256:\S+ for it/, "the key recorded");
      assert.match(error.message, /ssh-keygen -R 'alpha\.test'/);
      assert.deepEqual(error.recorded.line, 2);
      return true;
    });
  }
  await verifyHostKey(key, await options(file, { policy: "off" }));
});

test("a revoked key is refused as changed, without the advice to remove it", async () => {
  const key = await publicKey("revoked-ed25519");
  const opts = await options(fixture("known_hosts"), { name: "any.test", policy: "accept-new" });
  await assert.rejects(verifyHostKey(key, opts), (error: unknown) => {
    assert.ok(error instanceof HostKeyChangedError);
    assert.equal(error.recorded.revoked, true);
    assert.match(error.message, /@revoked/);
    assert.doesNotMatch(error.message, /ssh-keygen -R/);
    return true;
  });
});

test("recordHostKey adds the newline a hand-edited file lacks", async (t) => {
  const file = join(await scratch(t), "known_hosts");
  await writeFile(file, "old.test ssh-ed25519 AAAA");
  await recordHostKey(file, "[new.test]:2222", await publicKey("alpha-ed25519"));
  const lines = (await readFile(file, "utf8")).split("\n");
  assert.equal(lines[0], "old.test ssh-ed25519 AAAA");
  assert.match(lines[1] ?? "", /^\[new\.test\]:2222 ssh-ed25519 AAAA/);
});

test("host key algorithms follow the recorded key types", () => {
  assert.deepEqual(preferredHostKeyAlgorithms(["ssh-rsa", "ssh-ed25519", "x-unknown"]), [
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
    "ssh-ed25519",
  ]);
});

test("a key of another type than the recorded one is never accepted silently: refused under every policy but off", async (t) => {
  const file = join(await scratch(t), "known_hosts");
  const recorded = formatKnownHostsLine("alpha.test", await publicKey("alpha-ed25519"));
  await writeFile(file, `${recorded}\n`);
  const offered = await publicKey("alpha-ecdsa");
  for (const policy of ["strict", "accept-new"] as const) {
    const asked: string[] = [];
    const opts = await options(file, {
      policy,
      confirmNewHostKey: async (info) => {
        asked.push(info.host);
        return true;
      },
    });
    await assert.rejects(verifyHostKey(offered, opts), (error: unknown) => {
      assert.ok(error instanceof HostKeyOtherTypeError, String(error));
      assert.match(
        error.message,
        /the host has a key of another type on record: ED25519 SHA256:v7lYyXaxEgB7PLLOVQt11TeBi0FNgvt59B9cSs0SIhY/,
      );
      assert.match(error.message, /the server now offers ECDSA SHA256:/);
      assert.match(error.message, new RegExp(`${file} line 1`));
      return true;
    });
    assert.deepEqual(asked, [], `${policy}: not offered to the user as a new key`);
  }
  assert.equal(await readFile(file, "utf8"), `${recorded}\n`, "nothing appended");
  await verifyHostKey(offered, await options(file, { policy: "off" }));
});

test("keys recorded in a global file count, and accepted keys never go there", async (t) => {
  const dir = await scratch(t);
  const user = join(dir, "known_hosts");
  const global = join(dir, "ssh_known_hosts");
  await writeFile(global, `${formatKnownHostsLine("alpha.test", await publicKey("alpha-ed25519"))}\n`);
  const known = await loadKnownHosts([user, global]);
  const opts: HostKeyCheckOptions = {
    name: "alpha.test",
    entries: known.entries,
    knownHostsFiles: [user],
    policy: "accept-new",
  };
  await verifyHostKey(await publicKey("alpha-ed25519"), opts);
  await assert.rejects(verifyHostKey(await publicKey("alpha-ecdsa"), opts), HostKeyOtherTypeError);
  await assert.rejects(stat(user), /ENOENT/);
});
