import assert from "node:assert/strict";
import { test } from "node:test";
import { parseProxyJump } from "./proxy-jump.js";
import { expandProxyCommand } from "./transport.js";

test("ProxyJump hops: user, host, port, IPv6 in brackets, ssh:// and chains", () => {
  assert.deepEqual(parseProxyJump("bastion.test"), [{ username: undefined, host: "bastion.test", port: 22 }]);
  assert.deepEqual(parseProxyJump("ops@bastion.test:2222, ssh://me@[2001:db8::1]:22,2001:db8::2"), [
    { username: "ops", host: "bastion.test", port: 2222 },
    { username: "me", host: "2001:db8::1", port: 22 },
    { username: undefined, host: "2001:db8::2", port: 22 },
  ]);
  for (const bad of ["", "@host", "host:0", "host:99999", "host:x", "[::1]:x"]) {
    assert.throws(() => parseProxyJump(bad), /invalid ProxyJump host/, bad);
  }
});

test("ProxyCommand tokens expand as in ssh_config", () => {
  assert.equal(
    expandProxyCommand("nc %h %p # %r 100%%", { host: "198.18.1.1", port: 2222, username: "bhdev" }),
    "nc 198.18.1.1 2222 # bhdev 100%",
  );
  assert.equal(
    expandProxyCommand("gh cs ssh -c x --stdio", { host: "h", port: 22, username: "u" }),
    "gh cs ssh -c x --stdio",
  );
});
