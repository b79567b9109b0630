/**
 * Request/response latency, run inside namespace R: one TCP connection to an echo server,
 * then sequential 1-byte round trips (each waits for its echo before the next is sent).
 *   node --import tsx e2e/bench/nat/rr-client.ts --host H [--port 7] [--count 2000] [--warmup 500]
 * Prints {"count":N,"medianUs":..,"p99Us":..,"minUs":..,"maxUs":..}.
 */
import { connect } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string", default: "7" },
    count: { type: "string", default: "2000" },
    warmup: { type: "string", default: "500" }, // JIT and caches: the first hundreds are slower
  },
});
if (!values.host) throw new Error("--host is required");
const count = Number(values.count);
const warmup = Number(values.warmup);

const socket = connect({ host: values.host, port: Number(values.port) });
socket.setNoDelay(true); // one byte must leave now, not wait for Nagle
socket.setTimeout(10_000, () => socket.destroy(new Error("no echo within 10 s")));
socket.on("error", (error) => {
  process.stderr.write(`rr-client: ${error.message}\n`);
  process.exit(1);
});
let waiting: (() => void) | undefined;
socket.on("data", () => {
  const resolve = waiting;
  waiting = undefined;
  resolve?.();
});
await new Promise<void>((resolve) => socket.once("connect", resolve));

const ONE = Buffer.from([0x2a]);
const samples: number[] = [];
for (let i = 0; i < warmup + count; i++) {
  const echoed = new Promise<void>((resolve) => (waiting = resolve));
  const started = process.hrtime.bigint();
  socket.write(ONE);
  await echoed;
  if (i >= warmup) samples.push(Number(process.hrtime.bigint() - started) / 1000);
}
socket.destroy();

samples.sort((a, b) => a - b);
const at = (q: number): number => samples[Math.max(0, Math.ceil(q * samples.length) - 1)] ?? NaN;
const result = {
  count: samples.length,
  medianUs: at(0.5),
  p99Us: at(0.99),
  minUs: samples[0],
  maxUs: samples[samples.length - 1],
};
process.stdout.write(`${JSON.stringify(result)}\n`);
