// known_hosts parsing and matching on a fixture written with OpenSSH's own tools (the hashed lines
// come from `ssh-keygen -H`, the fingerprints from `ssh-keygen -l`).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  blobKeyType,
  checkHostKey,
  entryMatchesHost,
  fingerprintSha256,
  formatKnownHostsLine,
  hostLookupName,
  knownKeyTypes,
  parseKnownHosts,
} from "./known-hosts.js";

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const FILE = fixture("known_hosts");
const { entries, notes } = parseKnownHosts(readFileSync(FILE, "utf8"), FILE);

function publicKey(name: string): Buffer {
  const [, base64] = readFileSync(fixture(`${name}.pub`), "utf8").split(" ");
  return Buffer.from(base64 ?? "", "base64");
}

const alpha = publicKey("alpha-ed25519");
const alphaEcdsa = publicKey("alpha-ecdsa");
const beta = publicKey("beta-ed25519");
const revoked = publicKey("revoked-ed25519");
const stranger = publicKey("stranger-ed25519");

test("parses every line kind, and notes what it skips with file and line", () => {
  assert.equal(entries.length, 8);
  assert.deepEqual(
    entries.map((entry) => [entry.line, entry.marker, entry.hosts.kind, entry.keyType]),
    [
      [3, null, "patterns", "ssh-ed25519"],
      [4, null, "patterns", "ecdsa-sha2-nistp256"],
      [5, null, "patterns", "ssh-ed25519"],
      [6, null, "patterns", "ssh-ed25519"],
      [7, null, "patterns", "ecdsa-sha2-nistp256"],
      [8, null, "hashed", "ssh-ed25519"],
      [9, null, "hashed", "ssh-ed25519"],
      [10, "revoked", "patterns", "ssh-ed25519"],
    ],
  );
  assert.equal(notes.length, 3);
  assert.match(notes[0] ?? "", /known_hosts:11: @cert-authority line skipped/);
  assert.match(notes[1] ?? "", /known_hosts:12: malformed/);
  assert.match(notes[2] ?? "", /known_hosts:13: malformed/, "a key whose blob says another type");
});

test("lookup names: plain on port 22, [host]:port otherwise, the alias as is, lowercased", () => {
  assert.equal(hostLookupName("Alpha.TEST", 22), "alpha.test");
  assert.equal(hostLookupName("alpha.test", 2222), "[alpha.test]:2222");
  assert.equal(hostLookupName("2001:db8::1", 2222), "[2001:db8::1]:2222");
  assert.equal(hostLookupName("alpha.test", 2222, "MyBox"), "mybox");
});

test("fingerprints match ssh-keygen -l", () => {
  assert.equal(fingerprintSha256(alpha), "SHA256:v7lYyXaxEgB7PLLOVQt11TeBi0FNgvt59B9cSs0SIhY");
  assert.equal(fingerprintSha256(alphaEcdsa), "SHA256:xTGA+fG/eUCQuWES0ov/o17twHg/Sq6Vhuj0Qd0Xsb4");
  assert.equal(blobKeyType(alphaEcdsa), "ecdsa-sha2-nistp256");
});

test("comma-separated names, ports, wildcards and negation", () => {
  const first = entries[0]!;
  assert.ok(entryMatchesHost(first, "alpha.test"));
  assert.ok(entryMatchesHost(first, "198.18.5.1"));
  assert.ok(!entryMatchesHost(first, "[alpha.test]:2222"), "port 22 entries do not cover other ports");
  assert.ok(entryMatchesHost(entries[2]!, "[alpha.test]:2222"));
  const wild = entries[3]!;
  assert.ok(entryMatchesHost(wild, "db.wild.test"));
  assert.ok(!entryMatchesHost(wild, "secret.wild.test"), "a negated pattern vetoes the line");
  assert.ok(!entryMatchesHost(wild, "wild.test"));
  const question = entries[4]!;
  assert.ok(entryMatchesHost(question, "node1.test"));
  assert.ok(!entryMatchesHost(question, "node12.test"));
});

test("hashed entries (HMAC-SHA1 written by ssh-keygen -H) match their names only", () => {
  assert.ok(entryMatchesHost(entries[5]!, "hashed.test"));
  assert.ok(!entryMatchesHost(entries[5]!, "hashed.tes"));
  assert.ok(entryMatchesHost(entries[6]!, "[hashed.test]:2222"));
  assert.deepEqual(checkHostKey(entries, "hashed.test", beta).status, "known");
  assert.deepEqual(checkHostKey(entries, "[hashed.test]:2222", alpha).status, "known");
});

test("known, unknown and changed keys", () => {
  const known = checkHostKey(entries, "alpha.test", alpha);
  assert.equal(known.status, "known");
  assert.equal(checkHostKey(entries, "alpha.test", alphaEcdsa).status, "known");

  const changed = checkHostKey(entries, "alpha.test", beta);
  assert.equal(changed.status, "changed");
  if (changed.status === "changed") {
    assert.equal(changed.entry.line, 3, "the line recording the old key of that type");
    assert.equal(changed.revoked, false);
  }
  const changedHashed = checkHostKey(entries, "hashed.test", stranger);
  assert.equal(changedHashed.status, "changed");

  assert.deepEqual(checkHostKey(entries, "nowhere.test", stranger), { status: "unknown" });
  // Only an ECDSA key is recorded for node1.test: an Ed25519 key is not new, it is of another type.
  const other = checkHostKey(entries, "node1.test", stranger);
  assert.equal(other.status, "other-type");
  if (other.status === "other-type") {
    assert.deepEqual(
      other.recorded.map((entry) => entry.keyType),
      ["ecdsa-sha2-nistp256"],
    );
  }
});

test("a @revoked key is refused for every host, even one where it is otherwise unknown", () => {
  const result = checkHostKey(entries, "anything.test", revoked);
  assert.equal(result.status, "changed");
  if (result.status === "changed") {
    assert.equal(result.revoked, true);
    assert.equal(result.entry.line, 10);
  }
});

test("known key types for host key algorithm ordering", () => {
  assert.deepEqual(knownKeyTypes(entries, "alpha.test"), ["ssh-ed25519", "ecdsa-sha2-nistp256"]);
  assert.deepEqual(knownKeyTypes(entries, "nowhere.test"), []);
});

test("formatted lines parse back, plain and hashed", () => {
  for (const hashed of [false, true]) {
    const line = formatKnownHostsLine("[new.test]:2200", stranger, { hashed });
    const parsed = parseKnownHosts(`${line}\n`, "x");
    assert.equal(parsed.entries.length, 1);
    assert.equal(checkHostKey(parsed.entries, "[new.test]:2200", stranger).status, "known");
    assert.equal(checkHostKey(parsed.entries, "new.test", stranger).status, "unknown");
  }
});

test("garbage never throws", () => {
  const junk = [
    "|1|",
    "|1|abc|def ssh-ed25519 AAAA",
    "@revoked",
    "host ssh-ed25519 !!!!",
    "\u0000\u0001",
    " , x y",
  ];
  const parsed = parseKnownHosts(junk.join("\n"), "junk");
  assert.equal(parsed.entries.length, 0);
  assert.equal(parsed.notes.length, junk.length);
});
