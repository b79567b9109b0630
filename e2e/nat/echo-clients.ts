/**
 * Many TCP echo clients at once, run inside namespace R:
 *   node --import tsx e2e/nat/echo-clients.ts --host H --port 7 --count N --bytes B
 * Each connects, writes B random bytes, half-closes, and checks the echo matches exactly.
 * Prints {"ok":N,"failed":N,"errors":[...first few]}.
 */
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string", default: "7" },
    count: { type: "string", default: "1000" },
    bytes: { type: "string", default: "10000" },
  },
});

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

const count = Number(values.count);
const results = await Promise.allSettled(
  Array.from({ length: count }, () => one(values.host ?? "", Number(values.port), Number(values.bytes))),
);
const errors = results.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
process.stdout.write(
  `${JSON.stringify({ ok: count - errors.length, failed: errors.length, errors: errors.slice(0, 5) })}\n`,
);
