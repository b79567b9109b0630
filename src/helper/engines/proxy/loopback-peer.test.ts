// The owner of a loopback peer's socket, as Linux's /proc/net/tcp says: parsed from a recorded
// line, and asked for real about a connection this process makes to itself.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import { describe, it } from "node:test";
import { loadNativeAddon } from "../../native/load-addon.js";
import { loopbackPeerUid, procNetAddress, uidInProcNet } from "./loopback-peer.js";

// Recorded on Linux x86-64 (`cat /proc/net/tcp`): a client of uid 1000 on 127.0.0.1:41668 connected
// to a listener of uid 0 on 127.0.0.1:8080.
const RECORDED = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000     0        0 41240 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:A2C4 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 41239 1 0000000000000000 20 4 30 10 -1
`;

describe("loopback peer's uid", () => {
  it("encodes addresses as /proc/net/tcp prints them, on either byte order", () => {
    assert.equal(procNetAddress("127.0.0.1", 8080, true), "0100007F:1F90");
    assert.equal(procNetAddress("127.0.0.1", 8080, false), "7F000001:1F90");
    assert.equal(procNetAddress("::ffff:127.0.0.1", 80, true), "0100007F:0050");
    assert.equal(procNetAddress("::1", 1, true), "00000000000000000000000001000000:0001");
  });

  it("finds the client's line, not the server's", () => {
    assert.equal(uidInProcNet(RECORDED, "0100007F:A2C4", "0100007F:1F90"), 1000);
    assert.equal(uidInProcNet(RECORDED, "0100007F:1F90", "0100007F:A2C4"), 0);
    assert.equal(uidInProcNet(RECORDED, "0100007F:0001", "0100007F:1F90"), undefined);
  });

  it(
    "says this process's own uid for its own loopback connection (Linux)",
    { skip: process.platform !== "linux" },
    async () => {
      const accepted: Socket[] = [];
      const server = createServer((socket) => accepted.push(socket));
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      const client = connect((server.address() as { port: number }).port, "127.0.0.1");
      await once(client, "connect");
      try {
        while (accepted.length === 0) await new Promise((resolve) => setImmediate(resolve));
        assert.equal(await loopbackPeerUid(accepted[0]!), process.getuid?.());
        // The addon's sock_diag lookup (when built) says the same, and nothing for a socket that is not there.
        const owner = (() => {
          try {
            return loadNativeAddon().tcpSocketOwner;
          } catch {
            return undefined;
          }
        })();
        if (owner) {
          const loopback = Buffer.from([127, 0, 0, 1]);
          const port = (server.address() as { port: number }).port;
          assert.equal(owner(4, loopback, client.localPort!, loopback, port), process.getuid?.());
          // No such socket: not the listener the kernel's lookup falls back to.
          assert.equal(owner(4, loopback, port, loopback, 1), -1);
          assert.throws(() => owner(4, Buffer.alloc(16), 1, loopback, 2), TypeError);
        }
        assert.equal(await loopbackPeerUid(accepted[0]!, "darwin"), undefined, "nothing known off Linux");
      } finally {
        client.destroy();
        accepted[0]?.destroy();
        server.close();
      }
    },
  );
});
