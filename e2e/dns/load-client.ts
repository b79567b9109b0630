/**
 * A DNS load generator for the benchmark, run inside namespace L and asked over
 * e2e/netns/child-rpc.ts: "load" {server, port, count, concurrency, names, type, zone} keeps
 * `concurrency` UDP queries outstanding (retrying none; a lost one counts as lost after 2 s) and
 * answers LoadResult. Names are "same" (txt.ZONE each time) or "unique" (a new name each query).
 */
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { encode } from "dns-packet";
import { serve } from "../netns/child-rpc.js";

export interface LoadRequest {
  server: string;
  port: number;
  count: number;
  concurrency: number;
  names: "same" | "unique";
  type: "TXT" | "A" | "AAAA";
  zone: string;
}

export interface LoadResult {
  answered: number;
  lost: number;
  qps: number;
  medianMs: number;
  p99Ms: number;
}

export type LoadClientCommands = {
  load: { args: LoadRequest; result: LoadResult };
};

async function load({
  server,
  port,
  count,
  concurrency,
  names,
  type,
  zone,
}: LoadRequest): Promise<LoadResult> {
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
    const name = names === "unique" ? `q${sent}-${run}.${zone}` : `txt.${zone}`;
    const query = encode({
      type: "query",
      id,
      flags: 0x0100,
      questions: [{ name, type }],
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
  return {
    answered: latencies.length,
    lost,
    qps: Math.round((latencies.length / elapsedMs) * 1000),
    medianMs: Number(at(0.5).toFixed(3)),
    p99Ms: Number(at(0.99).toFixed(3)),
  };
}

serve<LoadClientCommands>({ load });
