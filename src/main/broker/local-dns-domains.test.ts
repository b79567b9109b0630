import assert from "node:assert/strict";
import { test } from "node:test";
import { sessionDns } from "./local-dns-domains.js";

const none = (): Promise<string[]> => Promise.resolve([]);

test("split: this computer's domains and the user's, once each, lower case", async () => {
  const dns = await sessionDns("split", ["Corp.Test.", "lab.test"], () =>
    Promise.resolve(["corp.test", "home.lan"]),
  );
  assert.deepEqual(dns.dnsDomains, ["corp.test", "home.lan", "lab.test"]);
  assert.equal(dns.dns, "split");
  assert.match(dns.note ?? "", /names under corp\.test, home\.lan, lab\.test and reverse lookups/);
});

test("split with no domain anywhere runs as all, and says why and what to do", async () => {
  const dns = await sessionDns("split", [], none);
  assert.equal(dns.dns, "all");
  assert.equal(dns.dnsDomains, undefined);
  assert.match(dns.note ?? "", /no search or VPN domain.*--dns-domain/);
});

test("all and off are passed as they are, without reading this computer's domains", async () => {
  const reads: string[] = [];
  const read = (): Promise<string[]> => (reads.push("read"), Promise.resolve(["corp.test"]));
  assert.deepEqual(await sessionDns("all", ["corp.test"], read), { dns: "all", note: null });
  assert.deepEqual(await sessionDns("off", [], read), { dns: "off", note: null });
  assert.deepEqual(reads, []);
});
