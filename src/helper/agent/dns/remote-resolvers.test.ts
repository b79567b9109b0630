// The agent's exit asks the remote's own resolvers: with systemd-resolved, the uplinks' servers
// rather than its stub (which a TUN entrance routes home), and never the link's own stub.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseHostsFile } from "../../engines/dns/hosts-file.js";
import { readRemoteResolvers, upstreamsOf } from "./remote-resolvers.js";

test("resolv.conf's servers, the resolved uplinks behind 127.0.0.53, and no link stub", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bh-resolvers-"));
  try {
    const resolvConf = join(dir, "resolv.conf");
    const resolvedUplinks = join(dir, "uplinks.conf");
    writeFileSync(resolvConf, "nameserver 198.18.9.53\nnameserver 198.18.0.2\nsearch corp.test\n");
    const plain = await readRemoteResolvers({ resolvConf, resolvedUplinks });
    assert.deepEqual(plain, { servers: ["198.18.9.53", "198.18.0.2"], searchDomains: ["corp.test"] });
    assert.deepEqual(upstreamsOf(plain, ["198.18.0.2"]), [{ address: "198.18.9.53", port: 53 }]);

    writeFileSync(resolvConf, "nameserver 127.0.0.53\noptions edns0\n");
    writeFileSync(resolvedUplinks, "nameserver 198.18.9.1\nnameserver 2001:db8:9::1\n");
    const resolved = await readRemoteResolvers({ resolvConf, resolvedUplinks });
    assert.deepEqual(resolved.servers, ["198.18.9.1", "2001:db8:9::1"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a hosts file answers its names (case-blind, comments and bad lines skipped), nothing else", () => {
  const text =
    "# comment\n198.18.9.10 p.remote.test P2.remote.test # web\nnot-an-ip p.remote.test\n2001:db8:9::10 p.remote.test\n";
  assert.deepEqual(parseHostsFile(text, "P.REMOTE.test"), [
    { address: "198.18.9.10", family: 4 },
    { address: "2001:db8:9::10", family: 6 },
  ]);
  assert.deepEqual(parseHostsFile(text, "p2.remote.test"), [{ address: "198.18.9.10", family: 4 }]);
  assert.deepEqual(parseHostsFile(text, "web"), []);
});
