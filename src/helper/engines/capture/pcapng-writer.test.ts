import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { test } from "node:test";
import { findOnPath, skipSaying } from "../../../../e2e/netns/preconditions.js";
import { buildTcpPacket, buildUdpPacket, parseAddress, TcpFlag } from "../packet/index.js";
import { BYTE_ORDER_MAGIC, BlockType, LINKTYPE_RAW } from "./pcapng-blocks.js";
import { PcapngWriter } from "./pcapng-writer.js";

const REMOTE = parseAddress("198.18.0.2");
const SERVER = parseAddress("198.19.0.10");
const REMOTE6 = parseAddress("2001:db8::2");
const SERVER6 = parseAddress("2001:db8:1::10");

function segment(flags: number, seq: number, payload = "", fromRemote = true): Buffer {
  return buildTcpPacket({
    src: fromRemote ? REMOTE : SERVER,
    dst: fromRemote ? SERVER : REMOTE,
    srcPort: fromRemote ? 40000 : 80,
    dstPort: fromRemote ? 80 : 40000,
    seq,
    ack: 0,
    flags,
    window: 65535,
    payload: Buffer.from(payload),
  });
}

interface Block {
  type: number;
  body: Buffer;
  options: Map<number, Buffer[]>;
}

/** A tiny pcapng reader, little-endian only: checks each block's framing and returns them. */
function readBlocks(file: Buffer): Block[] {
  const blocks: Block[] = [];
  for (let at = 0; at < file.length;) {
    const type = file.readUInt32LE(at);
    const total = file.readUInt32LE(at + 4);
    assert.equal(total % 4, 0, `block at ${at} has a length that is not a multiple of 4`);
    assert.equal(file.readUInt32LE(at + total - 4), total, `block at ${at}: trailing length differs`);
    const fixed = type === BlockType.SectionHeader ? 16 : type === BlockType.InterfaceDescription ? 8 : 20;
    let bodyEnd = at + 8 + fixed;
    if (type === BlockType.EnhancedPacket) bodyEnd += (file.readUInt32LE(at + 20) + 3) & ~3;
    const options = new Map<number, Buffer[]>();
    for (let o = bodyEnd; o < at + total - 4;) {
      const code = file.readUInt16LE(o);
      const length = file.readUInt16LE(o + 2);
      if (code === 0) break;
      options.set(code, [...(options.get(code) ?? []), file.subarray(o + 4, o + 4 + length)]);
      o += 4 + ((length + 3) & ~3);
    }
    blocks.push({ type, body: file.subarray(at + 8, bodyEnd), options });
    at += total;
  }
  return blocks;
}

async function writeCapture(
  path: string,
  packets: Array<["inbound" | "outbound", Buffer]>,
  maxBytes = 1_000_000,
) {
  const file = createWriteStream(path, { mode: 0o600 });
  const stops: string[] = [];
  const writer = new PcapngWriter(file, { session: "dev.test", maxBytes, onStop: (why) => stops.push(why) });
  for (const [direction, packet] of packets) writer.record(direction, packet);
  writer.close();
  await once(file, "close");
  return { writer, stops, bytes: readFileSync(path) };
}

const exchange: Array<["inbound" | "outbound", Buffer]> = [
  ["inbound", segment(TcpFlag.SYN, 1000)],
  ["outbound", segment(TcpFlag.SYN | TcpFlag.ACK, 5000, "", false)],
  ["inbound", segment(TcpFlag.ACK | TcpFlag.PSH, 1001, "GET / HTTP/1.0\r\n\r\n")],
  ["outbound", segment(TcpFlag.FIN | TcpFlag.ACK, 5001, "", false)],
  [
    "inbound",
    buildUdpPacket({ src: REMOTE6, dst: SERVER6, srcPort: 5353, dstPort: 53, payload: Buffer.from("q") }),
  ],
];

test("a written capture parses back: a section, two raw-IP interfaces, packets with direction", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-pcapng-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { writer, stops, bytes } = await writeCapture(join(dir, "a.pcapng"), exchange);
  assert.deepEqual(stops, [`capture stopped at 0.0 MB`], "closing is reported like any stop");
  assert.equal(writer.counts.packets, 5);
  assert.equal(writer.counts.bytes, bytes.length);

  const blocks = readBlocks(bytes);
  assert.deepEqual(
    blocks.map((b) => b.type),
    [BlockType.SectionHeader, 1, 1, 6, 6, 6, 6, 6],
  );
  assert.equal(blocks[0]!.body.readUInt32LE(0), BYTE_ORDER_MAGIC);
  assert.match(blocks[0]!.options.get(1)![0]!.toString(), /session dev\.test/);
  for (const idb of blocks.slice(1, 3)) assert.equal(idb.body.readUInt16LE(0), LINKTYPE_RAW);
  assert.equal(blocks[1]!.options.get(2)![0]!.toString(), "dev.test from remote");
  assert.equal(blocks[2]!.options.get(2)![0]!.toString(), "dev.test to remote");

  const epbs = blocks.slice(3);
  assert.deepEqual(
    epbs.map((b) => [b.body.readUInt32LE(0), b.options.get(2)![0]!.readUInt32LE(0)]),
    [
      [0, 1],
      [1, 2],
      [0, 1],
      [1, 2],
      [0, 1],
    ],
    "interface 0 and epb_flags inbound for the remote's packets, 1 and outbound for ours",
  );
  const third = epbs[2]!.body;
  assert.deepEqual(third.subarray(20, 20 + third.readUInt32LE(12)), exchange[2]![1]);
  const micros = third.readUInt32LE(4) * 0x1_0000_0000 + third.readUInt32LE(8);
  assert.ok(Math.abs(micros / 1000 - Date.now()) < 60_000, "timestamps are wall-clock microseconds");
});

test("tshark reads the capture: flags, payload, both directions, IPv4 and IPv6", async (t) => {
  if (!findOnPath("tshark")) return skipSaying(t, "`tshark` is not installed (Debian package tshark)");
  const dir = mkdtempSync(join(tmpdir(), "backhaul-pcapng-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "b.pcapng");
  await writeCapture(path, exchange);
  const fields = [
    "frame.interface_name",
    "frame.packet_flags_direction",
    "tcp.flags.str",
    "tcp.len",
    "ipv6.dst",
  ];
  const out = execFileSync("tshark", ["-r", path, "-T", "fields", ...fields.flatMap((f) => ["-e", f])], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const [INBOUND, OUTBOUND] = ["0x00000001", "0x00000002"];
  const rows = out
    .trim()
    .split("\n")
    .map((line) => line.split("\t"));
  assert.equal(rows.length, 5);
  assert.deepEqual(
    rows.map((r) => [r[0], r[1]]),
    [
      ["dev.test from remote", INBOUND],
      ["dev.test to remote", OUTBOUND],
      ["dev.test from remote", INBOUND],
      ["dev.test to remote", OUTBOUND],
      ["dev.test from remote", INBOUND],
    ],
    "tshark's frame.packet_flags_direction: 1 inbound, 2 outbound",
  );
  assert.match(rows[0]![2]!, /S/);
  assert.match(rows[1]![2]!, /A.*S|S.*A/);
  assert.equal(rows[2]![3], "18");
  assert.match(rows[3]![2]!, /F/);
  assert.equal(rows[4]![4], "2001:db8:1::10");
});

test("at the size limit the writer stops on a block boundary, ends the file and says so", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-pcapng-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const big = segment(TcpFlag.ACK, 1, "x".repeat(1000));
  const many = Array.from({ length: 100 }, (): ["inbound", Buffer] => ["inbound", big]);
  const { writer, stops, bytes } = await writeCapture(join(dir, "c.pcapng"), many, 20_000);
  assert.deepEqual(stops, ["capture stopped at 0.0 MB (limit)"], "said once, and not again at close");
  assert.ok(bytes.length <= 20_000, `the file holds ${bytes.length} bytes, over the limit`);
  assert.ok(writer.counts.packets >= 15 && writer.counts.packets < 100);
  assert.equal(readBlocks(bytes).length, 3 + writer.counts.packets, "whole blocks only");
  writer.record("inbound", big);
  assert.equal(writer.counts.packets, readBlocks(bytes).length - 3, "nothing is recorded after the stop");
});

test("a sink that cannot keep up costs dropped packets, never a wait; a failing sink stops it", async () => {
  const slow = new PassThrough(); // nobody reads it: its buffer only grows
  const writer = new PcapngWriter(slow, { session: "s", maxBytes: 100_000_000, maxPendingBytes: 64 * 1024 });
  const packet = segment(TcpFlag.ACK, 1, "y".repeat(1400));
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 100; i++) writer.record("outbound", packet);
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(writer.counts.dropped > 0, "packets beyond the pending bound are dropped");
  assert.ok(slow.writableLength < 64 * 1024 + 256 * 1024, `the sink holds ${slow.writableLength} bytes`);

  const stops: string[] = [];
  const full = new Writable({
    write: (_chunk, _encoding, done) => done(Object.assign(new Error("no space left"), { code: "ENOSPC" })),
  });
  const failing = new PcapngWriter(full, {
    session: "s",
    maxBytes: 1_000_000,
    onStop: (why) => stops.push(why),
  });
  failing.record("inbound", packet);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(failing.recording, false);
  assert.match(stops[0] ?? "", /^capture stopped at 0\.0 MB: disk full$/);
});
