/**
 * A witness in namespace L: TCP and UDP on one port, every address, both families. It emits
 * {"ready":true}, then one event per connection ({"tcp": local address}) and datagram
 * ({"udp": source address}) (e2e/netns/child-rpc.ts). A flow the exit should have refused shows
 * up here as a leak.
 *   node --import tsx e2e/exit-hostile/witness.ts --port N
 */
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { emit } from "../netns/child-rpc.js";

const { values } = parseArgs({ options: { port: { type: "string" } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0) throw new Error("--port N is required");

const report = emit;
/** The dual-stack socket names IPv4 addresses ::ffff:a.b.c.d. */
const plain = (address: string | undefined): string | undefined => address?.replace(/^::ffff:/, "");

const tcp = createServer((socket) => {
  report({ tcp: plain(socket.localAddress) });
  socket.on("error", () => undefined);
  socket.destroy();
});
const udp = createSocket({ type: "udp6", ipv6Only: false });
udp.on("message", (_message, peer) => report({ udp: plain(peer.address) }));

let pending = 2;
const ready = (): void => {
  if (--pending === 0) report({ ready: true });
};
tcp.listen({ port, host: "::", ipv6Only: false }, ready);
udp.bind(port, "::", ready);
process.on("SIGTERM", () => process.exit(0));
