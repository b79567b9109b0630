/**
 * `tsx e2e/bench/link.bench.ts`: throughput of a Link pair over a Unix socket and an in-memory
 * pipe, one direction, for MTU-sized and 64 KiB packets. The producer honours backpressure as the
 * TUN reader does. Prints Gbit/s and packets per stream write; asserts nothing about time.
 */
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { Link } from "../../src/helper/engines/link/link.js";
import { createMemoryPipe } from "../../src/helper/engines/link/memory-pipe.js";

const TOTAL_BYTES = 1024 * 1024 * 1024;

async function socketPair(): Promise<{ ends: [Duplex, Duplex]; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "backhaul-link-bench-"));
  const server = createServer();
  server.listen(join(dir, "bench.sock"));
  await once(server, "listening");
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const client = connect(join(dir, "bench.sock"));
  await once(client, "connect");
  const [serverSide] = await accepted;
  return {
    ends: [client, serverSide],
    cleanup: async () => {
      server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function run(ends: [Duplex, Duplex], packetSize: number): Promise<string> {
  const sender = new Link(ends[0], { role: "entrance", softwareVersion: "bench" });
  const receiver = new Link(ends[1], { role: "exit", softwareVersion: "bench" });
  await Promise.all([sender.ready, receiver.ready]);
  const count = Math.floor(TOTAL_BYTES / packetSize);
  let received = 0;
  const done = new Promise<void>((resolve) => {
    receiver.on("packets", (packets) => {
      received += packets.length;
      if (received >= count) resolve();
    });
  });
  const packet = Buffer.alloc(packetSize, 0x5a);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    if (!sender.sendPacket(packet)) await once(sender, "drain");
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  const writes = sender.writeCount;
  sender.close();
  await receiver.closed;
  const gbits = (count * packetSize * 8) / seconds / 1e9;
  return `${gbits.toFixed(2)} Gbit/s, ${(count / writes).toFixed(0)} packets per write`;
}

for (const packetSize of [1400, 65000]) {
  const socket = await socketPair();
  console.log(`unix socket, ${packetSize}-byte packets: ${await run(socket.ends, packetSize)}`);
  await socket.cleanup();
  console.log(`memory pipe, ${packetSize}-byte packets: ${await run(createMemoryPipe(), packetSize)}`);
}
