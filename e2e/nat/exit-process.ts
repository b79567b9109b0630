/**
 * The exit end of the NAT tests, run inside namespace L: listens on a Unix socket for the
 * entrance's link and runs the NAT engine on it.
 *   node --import tsx e2e/nat/exit-process.ts --socket PATH --mtu N --prefix CIDR... [--allow-local]
 * Prints {"listening":true}, then once a second {"rss":..,"flows":..,"counters":..}.
 */
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { attachNatEngine } from "../../src/helper/exit.js";
import { Link } from "../../src/helper/link/link.js";
import { EgressPolicy } from "../../src/helper/nat/egress-policy.js";
import { NatEngine } from "../../src/helper/nat/engine.js";
import { createIcmpForwarder } from "../../src/helper/nat/icmp/index.js";
import { linkPort } from "../../src/helper/port/link-port.js";

const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    mtu: { type: "string", default: "65520" },
    prefix: { type: "string", multiple: true, default: [] },
    "allow-local": { type: "boolean", default: false },
  },
});
if (!values.socket) throw new Error("--socket is required");
const socketPath = values.socket;
rmSync(socketPath, { force: true });

const server = createServer((socket) => {
  socket.setNoDelay(true);
  const link = new Link(socket, { role: "exit", softwareVersion: "test" });
  const port = linkPort(link);
  const engine = new NatEngine({
    output: port,
    policy: new EgressPolicy({ prefixes: values.prefix, allowLocal: values["allow-local"] }),
    linkMtu: Number(values.mtu),
    icmp: createIcmpForwarder,
  });
  attachNatEngine(port, engine);
  link.once("close", () => engine.close("link closed"));
  const report = setInterval(() => {
    const line = {
      rss: process.memoryUsage().rss,
      flows: engine.flowCounts,
      buffered: engine.budget.usedBytes,
      counters: engine.counters,
      link: link.counters,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }, 1000);
  link.once("close", () => clearInterval(report));
  // Debugging aid: `kill -USR2 PID` prints the open rows of the NAT table.
  process.on("SIGUSR2", () => {
    const open = engine.table.snapshot().filter((row) => row.closedAt === null);
    process.stdout.write(`${JSON.stringify({ table: open })}\n`);
  });
});
server.listen(socketPath, () => process.stdout.write(`${JSON.stringify({ listening: true })}\n`));

const stop = (): void => {
  server.close();
  rmSync(socketPath, { force: true });
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
