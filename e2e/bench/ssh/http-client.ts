/**
 * Small HTTP requests, run inside namespace R and asked over e2e/netns/child-rpc.ts: "measure"
 * {host, port, count, warmup} makes sequential GET / requests to S, each on a new TCP connection
 * (no keep-alive, nothing reused), after `warmup` unmeasured ones, and answers HttpResult.
 */
import { request } from "node:http";
import { serve } from "../../netns/child-rpc.js";
import type { HttpResult } from "./measure.js";

export type HttpClientCommands = {
  measure: { args: { host: string; port: number; count: number; warmup: number }; result: HttpResult };
};

function get(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // agent: false: a fresh connection, closed after the response ("Connection: close").
    const req = request({ host, port, path: "/", agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("no response within 10 s")));
    req.end();
  });
}

serve<HttpClientCommands>({
  measure: async ({ host, port, count, warmup }) => {
    for (let i = 0; i < warmup; i++) await get(host, port);
    const samples: number[] = [];
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      await get(host, port);
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
    samples.sort((a, b) => a - b);
    const at = (q: number): number => samples[Math.max(0, Math.ceil(q * samples.length) - 1)] ?? NaN;
    return { count, totalMs, perRequestMs: totalMs / count, medianMs: at(0.5), p99Ms: at(0.99) };
  },
});
