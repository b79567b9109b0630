/**
 * Small HTTP requests, run inside namespace R: sequential GET / to S, each on a new TCP
 * connection (no keep-alive, nothing reused), after a few unmeasured ones.
 *   node --import tsx e2e/bench/ssh/http-client.ts --host H [--count 200] [--warmup 10]
 * Prints {"count":N,"totalMs":..,"perRequestMs":..,"medianMs":..,"p99Ms":..}.
 */
import { request } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string", default: "80" },
    count: { type: "string", default: "200" },
    warmup: { type: "string", default: "10" },
  },
});
if (!values.host) throw new Error("--host is required");
const host = values.host;

function get(): Promise<void> {
  return new Promise((resolve, reject) => {
    // agent: false: a fresh connection, closed after the response ("Connection: close").
    const req = request(
      { host, port: Number(values.port), path: "/", agent: false, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("no response within 10 s")));
    req.end();
  });
}

for (let i = 0; i < Number(values.warmup); i++) await get();
const count = Number(values.count);
const samples: number[] = [];
const started = process.hrtime.bigint();
for (let i = 0; i < count; i++) {
  const t0 = process.hrtime.bigint();
  await get();
  samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
samples.sort((a, b) => a - b);
const at = (q: number): number => samples[Math.max(0, Math.ceil(q * samples.length) - 1)] ?? NaN;
process.stdout.write(
  `${JSON.stringify({ count, totalMs, perRequestMs: totalMs / count, medianMs: at(0.5), p99Ms: at(0.99) })}\n`,
);
