// Drives the addon's TunDevice directly (no TypeScript wrapper) inside a network namespace, to
// test the arena it lends onBatch. Sends UDP datagrams with distinct payloads into the TUN's
// routed prefix in rounds (so there are many wakeups) and checks each arrives intact:
//   node --import tsx e2e/netns/tun-arena-child.ts intact|close-inside|detach
// intact:       every batch comes in the same Buffer object.
// close-inside: close() from inside onBatch; no onBatch after it, and the process exits by itself.
// detach:       the first batch detaches the ArrayBuffers of the arena and of `lengths` (transfer()
//               or structuredClone); the memory given away must not change afterwards, and later
//               datagrams still arrive.
// Prints one JSON line (ArenaReport) and exits 0 unless something threw.
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import { loadNativeAddon } from "../../src/helper/native/load-addon.js";
import { LinuxInterface } from "../../src/helper/system/tun/index.js";
import {
  ARENA_ADDRESS,
  ARENA_ROUTE,
  PER_ROUND,
  ROUNDS,
  type ArenaMode,
  type ArenaReport,
} from "./tun-arena-protocol.js";

const TARGET = "198.19.0.9";
const PORT = 9;
const ROUND_TIMEOUT_MS = 5_000;

/** Datagram i's payload: its number, then a fill that depends on it, of a length that does too. */
function payloadOf(index: number): Buffer {
  const head = Buffer.from(`arena ${index} `);
  const fill = Buffer.alloc(64 + ((index * 37) % 1200), (index * 7 + 1) % 251);
  return Buffer.concat([head, fill]);
}

/** The payload of an IPv4 UDP packet to PORT, or undefined for anything else (IPv6, other ports). */
function udpPayload(packet: Buffer): Buffer | undefined {
  if (packet.length < 28 || packet[0]! >> 4 !== 4 || packet[9] !== 17) return undefined;
  const ihl = (packet[0]! & 0x0f) * 4;
  if (packet.length < ihl + 8 || packet.readUInt16BE(ihl + 2) !== PORT) return undefined;
  return packet.subarray(ihl + 8);
}

/** Detaches `buffer`, returning what now owns its memory and how it was done. */
function detach(buffer: ArrayBufferLike): { owner: ArrayBufferLike; how: string } {
  const transfer = (buffer as { transfer?: () => ArrayBufferLike }).transfer;
  if (typeof transfer === "function") return { owner: transfer.call(buffer), how: "transfer" };
  return { owner: structuredClone(buffer, { transfer: [buffer] }), how: "structuredClone" };
}

const sha256 = (bytes: ArrayBufferLike): string =>
  createHash("sha256").update(new Uint8Array(bytes)).digest("hex");

async function main(mode: ArenaMode): Promise<ArenaReport> {
  const { TunDevice } = loadNativeAddon();
  const tun = new TunDevice("bharena%d");
  const report: ArenaReport = {
    mode,
    batches: 0,
    otherBuffers: 0,
    intact: [],
    problems: [],
    onBatchAfterClose: 0,
  };
  const seen = new Set<number>();
  let first: Buffer | undefined;
  let closed = false;
  let givenAway: { arena: ArrayBufferLike; lengths: ArrayBufferLike; hashes: string[] } | undefined;
  let arrived = 0;
  let wake: (() => void) | undefined;

  tun.start(
    (data, lengths, count) => {
      if (closed) report.onBatchAfterClose++;
      report.batches++;
      first ??= data;
      if (data !== first) report.otherBuffers++;
      if (data.length === 0) {
        // Detached: slicing it would throw. Report it and go on, to see what the read() hit.
        report.problems.push(`batch ${report.batches}: onBatch got a detached Buffer`);
        return;
      }
      let offset = 0;
      let ours = 0;
      for (let i = 0; i < count; i++) {
        const length = lengths[i]!;
        const payload = udpPayload(data.subarray(offset, offset + length));
        offset += length;
        if (!payload) continue;
        ours++;
        const match = /^arena (\d+) /.exec(payload.toString("latin1", 0, 16));
        const index = match ? Number(match[1]) : -1;
        if (index < 0 || !payload.equals(payloadOf(index))) {
          report.problems.push(`batch ${report.batches}: a payload of ${payload.length} bytes is not ours`);
        } else if (seen.has(index)) {
          report.problems.push(`datagram ${index} arrived twice`);
        } else {
          seen.add(index);
          report.intact.push(index);
        }
      }
      arrived += ours;
      if (ours > 0 && mode === "close-inside" && !closed) {
        closed = true;
        tun.close();
      }
      if (ours > 0 && mode === "detach" && !givenAway) {
        const arena = detach(data.buffer);
        const lengthsOwner = detach(lengths.buffer).owner;
        report.detachedWith = arena.how;
        givenAway = {
          arena: arena.owner,
          lengths: lengthsOwner,
          hashes: [sha256(arena.owner), sha256(lengthsOwner)],
        };
      }
      wake?.();
    },
    (error) => report.problems.push(`onError: ${error.message}`),
  );

  const iface = new LinuxInterface(tun.name);
  await iface.addAddress(ARENA_ADDRESS);
  await iface.up();
  await iface.addRoute(ARENA_ROUTE);

  const socket = createSocket("udp4");
  // After close() the route is gone: sends fail, which is expected in close-inside.
  socket.on("error", () => {});
  const send = (index: number): Promise<void> =>
    new Promise((resolve) => socket.send(payloadOf(index), PORT, TARGET, () => resolve()));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const want = arrived + PER_ROUND;
      for (let i = 0; i < PER_ROUND; i++) await send(round * PER_ROUND + i);
      if (closed) continue;
      const complete = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ROUND_TIMEOUT_MS);
        wake = () => {
          if (arrived < want && !closed) return;
          clearTimeout(timer);
          resolve(true);
        };
        wake();
      });
      if (!complete) {
        report.problems.push(`round ${round}: ${want - arrived} datagrams did not arrive`);
        break;
      }
    }
    // close-inside: room for a stray wakeup to show up.
    if (closed) await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    socket.close();
    tun.close();
  }
  if (givenAway) {
    report.givenAwayChanged = {
      arena: sha256(givenAway.arena) !== givenAway.hashes[0],
      lengths: sha256(givenAway.lengths) !== givenAway.hashes[1],
    };
  }
  return report;
}

const mode = process.argv[2];
if (mode !== "intact" && mode !== "close-inside" && mode !== "detach") {
  process.stderr.write(`usage: tun-arena-child.ts intact|close-inside|detach\n`);
  process.exitCode = 2;
} else {
  main(mode).then(
    (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
