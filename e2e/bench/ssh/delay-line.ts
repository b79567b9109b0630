/**
 * A delay line for the bench's "far" host, run inside namespace D: two TUN devices, and every
 * packet read from one is written to the other `--one-way-ms` later. Policy routing in D sends
 * what comes from L into one and what comes from S into the other, so D's kernel forwards
 * through it both ways: a destination one round trip of 2 × one-way-ms away, as behind a VPN.
 * (This kernel has no netem; this stands in for `tc qdisc add … netem delay`.)
 *   node --import tsx e2e/bench/ssh/delay-line.ts --a bh-da --b bh-db --one-way-ms 10
 * Emits {"ready":true} (e2e/netns/child-rpc.ts) once both devices are up; runs until killed.
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { openTun, type TunDevice } from "../../../src/helper/system/tun/index.js";
import { emit } from "../../netns/child-rpc.js";

const { values } = parseArgs({
  options: {
    a: { type: "string", default: "bh-da" },
    b: { type: "string", default: "bh-db" },
    "one-way-ms": { type: "string", default: "10" },
  },
});
const delayMs = Number(values["one-way-ms"]);
if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > 1_000)
  throw new Error("--one-way-ms takes 0..1000");

/** Packets from `from` reach `to` delayMs later, in order. */
function connect(from: TunDevice, to: TunDevice): void {
  const queue: { due: number; packet: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const drain = (): void => {
    timer = undefined;
    const now = performance.now();
    const due: Buffer[] = [];
    while (queue.length > 0 && queue[0]!.due <= now) due.push(queue.shift()!.packet);
    if (due.length > 0) to.write(due);
    if (queue.length > 0) timer = setTimeout(drain, Math.max(0, queue[0]!.due - now));
  };
  from.onPackets((packets) => {
    const due = performance.now() + delayMs;
    // The batch's buffers are reused after this call: keep copies.
    for (const packet of packets) queue.push({ due, packet: Buffer.from(packet) });
    timer ??= setTimeout(drain, delayMs);
  });
}

const a = await openTun({ name: values.a, mtu: 1500 });
const b = await openTun({ name: values.b, mtu: 1500 });
for (const device of [a, b]) execFileSync("ip", ["link", "set", device.name, "up"]);
connect(a, b);
connect(b, a);
emit({ ready: true });
