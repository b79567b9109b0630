import assert from "node:assert/strict";
import { test } from "node:test";
import { HelperProtocolError, parseCommand } from "./helper-protocol.js";

test("a diagnose command carries a checked host, port and address; anything else is refused", () => {
  const line = (value: Record<string, unknown>): string =>
    JSON.stringify({ type: "diagnose", id: 3, host: "vault.corp.test", port: 5432, address: null, ...value });
  assert.deepEqual(parseCommand(line({})), {
    type: "diagnose",
    id: 3,
    host: "vault.corp.test",
    port: 5432,
    address: null,
  });
  assert.equal(
    (parseCommand(line({ address: "198.19.1.10" })) as { address: string }).address,
    "198.19.1.10",
  );
  for (const bad of [
    { host: "-oProxyCommand=sh" },
    { host: "a b" },
    { port: 0 },
    { port: "80" },
    { id: -1 },
    { id: 1.5 },
    { address: "198.19.1" },
  ])
    assert.throws(() => parseCommand(line(bad)), HelperProtocolError, JSON.stringify(bad));
});
