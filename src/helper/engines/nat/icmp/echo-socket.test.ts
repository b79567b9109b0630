// The addon's IcmpSocket without sending anything: argument checks, what it reports, closing.
// (Echo against a real kernel is e2e/icmp.test.ts, inside network namespaces.)
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import type { NativeIcmpSocketClass } from "../../../native/addon-types.js";
import { loadNativeAddon, nativeAddonCandidates } from "../../../native/load-addon.js";
import { openEchoSocket, type EchoSocket } from "./echo-socket.js";

function nativeClass(): NativeIcmpSocketClass | string {
  if (process.platform !== "linux") return "the addon is Linux-only";
  if (!nativeAddonCandidates().some((file) => existsSync(file))) return "the addon is not built";
  return loadNativeAddon().IcmpSocket ?? "the addon predates IcmpSocket: rebuild it";
}

test("IcmpSocket refuses bad arguments with typed errors", (t) => {
  const IcmpSocket = nativeClass();
  if (typeof IcmpSocket === "string") return t.skip(IcmpSocket);
  assert.throws(() => new IcmpSocket(5 as 4), { name: "TypeError", code: "ERR_INVALID_ARG_VALUE" });
  assert.throws(() => new IcmpSocket(4, "icmp" as "raw"), { code: "ERR_INVALID_ARG_VALUE" });
  assert.equal(IcmpSocket.maxBatch, 64);
});

test("an open socket reports its mode and identifier; send checks its arguments; close is final", (t) => {
  const IcmpSocket = nativeClass();
  if (typeof IcmpSocket === "string") return t.skip(IcmpSocket);
  let socket: EchoSocket;
  try {
    socket = openEchoSocket(
      4,
      () => {},
      () => {},
    );
  } catch (error) {
    // Neither mode allowed here: the message must say how to allow one.
    assert.match(String(error), /ping_group_range|CAP_NET_RAW|IPv/);
    return t.skip(`no ICMP socket here: ${String(error)}`);
  }
  assert.equal(socket.family, 4);
  assert.ok(socket.mode === "datagram" || socket.mode === "raw");
  if (socket.mode === "datagram") assert.ok(socket.identifier !== null && socket.identifier > 0);
  else assert.equal(socket.identifier, null);
  const message = Buffer.from([8, 0, 0, 0, 0, 1, 0, 1]);
  assert.throws(() => socket.send(Buffer.alloc(16), message), { code: "ERR_INVALID_ARG_VALUE" });
  assert.throws(() => socket.send(Buffer.alloc(4), message.subarray(0, 4)), {
    code: "ERR_INVALID_ARG_VALUE",
  });
  assert.throws(() => socket.send("198.18.5.2" as unknown as Uint8Array, message), { name: "TypeError" });
  socket.close();
  socket.close();
  // Closed: nothing leaves this machine, the caller hears why.
  assert.equal(socket.send(Buffer.from([198, 18, 5, 2]), message), "EBADF");
});
