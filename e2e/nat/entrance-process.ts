/**
 * The remote end of the NAT tests, run inside namespace R: a TUN device whose packets go over a
 * Unix-socket link to the exit process. Stands in for the remote agent until it exists.
 *   node --import tsx e2e/nat/entrance-process.ts --socket PATH --mtu N --address CIDR... --route CIDR...
 * Emits {"ready":true,"tun":NAME} once the link is up (e2e/netns/child-rpc.ts).
 */
import { connect } from "node:net";
import { parseArgs } from "node:util";
import { pumpTunAndLink } from "../../src/helper/engines/entrance.js";
import { Link } from "../../src/helper/engines/link/link.js";
import { linkPort } from "../../src/helper/engines/port/link-port.js";
import { tunPort } from "../../src/helper/system/tun/tun-port.js";
import { TUN_TX_QUEUE_PACKETS } from "../../src/helper/system/tun-setup.js";
import { LinuxInterface, openTun } from "../../src/helper/system/tun/index.js";
import { emit } from "../netns/child-rpc.js";

const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    mtu: { type: "string", default: "65520" },
    address: { type: "string", multiple: true, default: [] },
    route: { type: "string", multiple: true, default: [] },
  },
});
if (!values.socket) throw new Error("--socket is required");
const mtu = Number(values.mtu);

const tun = await openTun({ name: "bh0", mtu });
const iface = new LinuxInterface(tun.name);
await iface.setMtu(mtu);
await iface.setTxQueueLength(TUN_TX_QUEUE_PACKETS); // as the agent does
for (const address of values.address) await iface.addAddress(address);
await iface.up();
for (const route of values.route) await iface.addRoute(route);

const socket = connect(values.socket);
socket.setNoDelay(true);
const link = new Link(socket, { role: "entrance", softwareVersion: "test" });
pumpTunAndLink(tunPort(tun), linkPort(link));
await link.ready;
emit({ ready: true, tun: tun.name });

const stop = (): void => {
  link.close("entrance stopping");
  tun.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
link.once("close", (info) => {
  process.stderr.write(`entrance: link closed (${info.initiator}): ${info.reason}\n`);
  tun.close();
  process.exit(info.error ? 1 : 0);
});
