/**
 * Many open TCP connections at once, run inside namespace R and asked over e2e/netns/child-rpc.ts:
 * "open" {host, port, count} opens `count` connections to an echo server, 50 at a time, and
 * has each echo one byte (so the flow is established both ways); they stay open until "close".
 * For the helper's memory with many flows (connection-cost.ts).
 */
import { connect, type Socket } from "node:net";
import { serve } from "../../netns/child-rpc.js";

export type HoldCommands = {
  open: { args: { host: string; port: number; count: number }; result: { open: number; failed: string[] } };
  close: { args: Record<string, never>; result: { closed: number } };
};

const held: Socket[] = [];
const BATCH = 50;

function openOne(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(10_000, () => socket.destroy(new Error("no echo within 10 s")));
    socket.once("error", reject);
    socket.once("connect", () => socket.write("x"));
    socket.once("data", () => {
      socket.setTimeout(0);
      resolve(socket);
    });
  });
}

serve<HoldCommands>({
  open: async ({ host, port, count }) => {
    const failed: string[] = [];
    for (let started = 0; started < count; started += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, count - started) }, () => openOne(host, port));
      for (const result of await Promise.allSettled(batch)) {
        if (result.status === "fulfilled") held.push(result.value);
        else failed.push(String(result.reason));
      }
    }
    return { open: held.length, failed: [...new Set(failed)].slice(0, 3) };
  },
  close: () => {
    const closed = held.length;
    for (const socket of held.splice(0)) socket.destroy();
    return { closed };
  },
});
