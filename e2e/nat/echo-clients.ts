/**
 * Many TCP echo clients at once, run inside namespace R and asked over e2e/netns/child-rpc.ts:
 * "run" {host, port, count, bytes}. Each client connects, writes `bytes` random bytes, half-closes,
 * and checks the echo matches exactly; the answer counts them, with the first few errors.
 */
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { serve } from "../netns/child-rpc.js";

export interface EchoRun {
  host: string;
  port: number;
  count: number;
  bytes: number;
}

export type EchoClientCommands = {
  run: { args: EchoRun; result: { ok: number; failed: number; errors: string[] } };
};

function one(host: string, port: number, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const data = randomBytes(size);
    const chunks: Buffer[] = [];
    const socket = connect({ host, port, allowHalfOpen: true });
    socket.setTimeout(60_000, () => socket.destroy(new Error("timeout")));
    socket.on("connect", () => socket.end(data)); // half-close after writing
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const echoed = Buffer.concat(chunks);
      if (echoed.equals(data)) resolve();
      else reject(new Error(`echo mismatch: sent ${size}, got ${echoed.length}`));
    });
  });
}

serve<EchoClientCommands>({
  run: async ({ host, port, count, bytes }) => {
    const results = await Promise.allSettled(Array.from({ length: count }, () => one(host, port, bytes)));
    const errors = results.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
    return { ok: count - errors.length, failed: errors.length, errors: errors.slice(0, 5) };
  },
});
