/**
 * Request/response latency, run inside namespace R and asked over e2e/netns/child-rpc.ts:
 * "measure" {host, port, count, warmup} opens one TCP connection to an echo server, then makes
 * sequential 1-byte round trips (each waits for its echo before the next is sent); the first
 * `warmup` are not counted (JIT and caches: the first hundreds are slower).
 */
import { connect, type Socket } from "node:net";
import { serve } from "../../netns/child-rpc.js";

export interface RoundTrips {
  count: number;
  medianUs: number;
  p99Us: number;
  minUs: number;
  maxUs: number;
}

export type RrClientCommands = {
  measure: { args: { host: string; port: number; count: number; warmup: number }; result: RoundTrips };
};

const ONE = Buffer.from([0x2a]);

async function roundTrips(socket: Socket, total: number, warmup: number): Promise<number[]> {
  let waiting: (() => void) | undefined;
  socket.on("data", () => {
    const resolve = waiting;
    waiting = undefined;
    resolve?.();
  });
  const samples: number[] = [];
  for (let i = 0; i < total; i++) {
    const echoed = new Promise<void>((resolve) => (waiting = resolve));
    const started = process.hrtime.bigint();
    socket.write(ONE);
    await echoed;
    if (i >= warmup) samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  return samples;
}

serve<RrClientCommands>({
  measure: async ({ host, port, count, warmup }) => {
    const socket = connect({ host, port });
    socket.setNoDelay(true); // one byte must leave now, not wait for Nagle
    socket.setTimeout(10_000, () => socket.destroy(new Error("no echo within 10 s")));
    const failed = new Promise<never>((_, reject) => socket.once("error", reject));
    try {
      await Promise.race([new Promise<void>((resolve) => socket.once("connect", resolve)), failed]);
      const samples = await Promise.race([roundTrips(socket, warmup + count, warmup), failed]);
      samples.sort((a, b) => a - b);
      const at = (q: number): number => samples[Math.max(0, Math.ceil(q * samples.length) - 1)] ?? NaN;
      return {
        count: samples.length,
        medianUs: at(0.5),
        p99Us: at(0.99),
        minUs: samples[0] ?? NaN,
        maxUs: samples[samples.length - 1] ?? NaN,
      };
    } finally {
      socket.destroy();
    }
  },
});
