/**
 * A DNS load generator for the benchmark, run inside namespace L:
 *   node --import tsx e2e/dns/load-client.ts --server ADDR --port N --count N --concurrency N
 *     --names same|unique --type TXT
 * Keeps `concurrency` UDP queries outstanding (retrying none; a lost one counts as lost after
 * 2 s) and prints {"done":true,"answered":..,"lost":..,"qps":..,"medianMs":..,"p99Ms":..}.
 */
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { encode } from "dns-packet";

const { values } = parseArgs({
  options: {
    server: { type: "string" },
    port: { type: "string", default: "53" },
    count: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "32" },
    names: { type: "string", default: "same" },
    type: { type: "string", default: "TXT" },
    zone: { type: "string", default: "corp.test" },
  },
});
if (!values.server) throw new Error("--server is required");
const server = values.server;
const port = Number(values.port);
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;

const socket = createSocket(server.includes(":") ? "udp6" : "udp4");
socket.bind(0);
await once(socket, "listening");

const outstanding = new Map<number, { sentAt: number; timer: NodeJS.Timeout }>();
const latencies: number[] = [];
let sent = 0;
let lost = 0;
let nextId = 0;
let finish: () => void = () => undefined;
const finished = new Promise<void>((resolve) => (finish = resolve));

function sendOne(): void {
  if (sent >= count) {
    if (outstanding.size === 0) finish();
    return;
  }
  const id = nextId++ & 0xffff;
  const name = values.names === "unique" ? `q${sent}-${run}.${values.zone}` : `txt.${values.zone}`;
  const query = encode({
    type: "query",
    id,
    flags: 0x0100,
    questions: [{ name, type: values.type ?? "TXT" }],
  });
  sent++;
  const timer = setTimeout(() => {
    outstanding.delete(id);
    lost++;
    sendOne();
  }, 2_000);
  outstanding.set(id, { sentAt: performance.now(), timer });
  socket.send(query, port, server);
}

socket.on("message", (message) => {
  if (message.length < 2) return;
  const id = message.readUInt16BE(0);
  const pending = outstanding.get(id);
  if (!pending) return;
  clearTimeout(pending.timer);
  outstanding.delete(id);
  latencies.push(performance.now() - pending.sentAt);
  sendOne();
});

const started = performance.now();
for (let i = 0; i < concurrency; i++) sendOne();
await finished;
const elapsedMs = performance.now() - started;
socket.close();
latencies.sort((a, b) => a - b);
const at = (fraction: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * fraction))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({
    done: true,
    answered: latencies.length,
    lost,
    qps: Math.round((latencies.length / elapsedMs) * 1000),
    medianMs: Number(at(0.5).toFixed(3)),
    p99Ms: Number(at(0.99).toFixed(3)),
  })}\n`,
);
