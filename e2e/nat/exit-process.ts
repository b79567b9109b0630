/**
 * The exit end of the NAT tests, run inside namespace L: listens on a Unix socket for the
 * entrance's link and runs the NAT engine on it.
 *   node --import tsx e2e/nat/exit-process.ts --socket PATH --mtu N --prefix CIDR... [--allow-local]
 *     [--faults loss=0.01,reorder=0.05,... --fault-seed N]
 * Emits {"listening":true}, then once a second {"rss":..,"flows":..,"counters":..} (events of
 * e2e/netns/child-rpc.ts). With --faults, a FaultInjector sits between the link and the NAT
 * engine, both directions; its event {"faults": "..."} (rates and seed) comes first and its counts
 * ride in each report.
 */
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { attachNatEngine } from "../../src/helper/engines/exit.js";
import { Link } from "../../src/helper/engines/link/link.js";
import { EgressPolicy } from "../../src/helper/engines/nat/egress-policy.js";
import { NatEngine } from "../../src/helper/engines/nat/engine.js";
import { createIcmpForwarder } from "../../src/helper/engines/nat/icmp/index.js";
import { FaultInjector, type FaultRates } from "../../src/helper/engines/port/fault-injector.js";
import { linkPort } from "../../src/helper/engines/port/link-port.js";
import { CaptureTap } from "../../src/helper/engines/port/capture-tap.js";
import { emit } from "../netns/child-rpc.js";

const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    mtu: { type: "string", default: "65520" },
    prefix: { type: "string", multiple: true, default: [] },
    "allow-local": { type: "boolean", default: false },
    faults: { type: "string" },
    "fault-seed": { type: "string", default: "1" },
  },
});
if (!values.socket) throw new Error("--socket is required");
const socketPath = values.socket;

/** "loss=0.01,reorder=0.05" as rates. */
function parseFaults(spec: string): Partial<FaultRates> {
  const rates: Partial<FaultRates> = {};
  for (const pair of spec.split(",")) {
    const [name, value] = pair.split("=");
    if (!["loss", "reorder", "duplicate", "delay", "corrupt"].includes(name ?? ""))
      throw new Error(`--faults: unknown fault ${JSON.stringify(name)}`);
    rates[name as keyof FaultRates] = Number(value);
  }
  return rates;
}
rmSync(socketPath, { force: true });

const server = createServer((socket) => {
  socket.setNoDelay(true);
  const link = new Link(socket, { role: "exit", softwareVersion: "test" });
  const faults =
    values.faults === undefined
      ? undefined
      : new FaultInjector(linkPort(link), {
          seed: Number(values["fault-seed"]),
          rates: parseFaults(values.faults),
        });
  if (faults) emit({ faults: faults.describe() });
  // As ExitSession: the engine sees the link through a capture tap (off here), so that the
  // benchmarks measure the product's data path.
  const port = new CaptureTap(faults ?? linkPort(link));
  const engine = new NatEngine({
    output: port,
    policy: new EgressPolicy({ prefixes: values.prefix, allowLocal: values["allow-local"] }),
    linkMtu: Number(values.mtu),
    icmp: createIcmpForwarder,
  });
  attachNatEngine(port, engine);
  link.once("close", () => {
    faults?.close();
    engine.close("link closed");
  });
  const report = setInterval(() => {
    const line = {
      rss: process.memoryUsage().rss,
      flows: engine.flowCounts,
      buffered: engine.budget.usedBytes,
      counters: engine.counters,
      link: link.counters,
      ...(faults ? { faultCounts: faults.counts } : {}),
    };
    emit(line);
  }, 1000);
  link.once("close", () => clearInterval(report));
  // Debugging aid: `kill -USR2 PID` prints the open rows of the NAT table.
  process.on("SIGUSR2", () => {
    const open = engine.table.snapshot().filter((row) => row.closedAt === null);
    emit({ table: open });
  });
});
server.listen(socketPath, () => emit({ listening: true }));

const stop = (): void => {
  server.close();
  rmSync(socketPath, { force: true });
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
