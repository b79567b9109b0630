/**
 * `npm run bench:packet`: packets per second for parsing and building a 1,400-byte TCP segment,
 * the size of a full segment at a 1,500-byte MTU. Prints figures; asserts nothing about time.
 */
import { performance } from "node:perf_hooks";
import {
  buildTcpPacket,
  parseAddress,
  parseIp,
  TcpFlag,
  TcpView,
  writeTcpPacket,
  type TcpSpec,
} from "../../src/helper/engines/packet/index.js";

const DURATION_MS = 1_000;

function measure(name: string, run: () => void): { name: string; perSecond: number } {
  for (let i = 0; i < 20_000; i++) run(); // warm up the JIT
  let count = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < DURATION_MS) {
    for (let i = 0; i < 1_000; i++) run();
    count += 1_000;
    elapsed = performance.now() - started;
  }
  return { name, perSecond: (count / elapsed) * 1000 };
}

const results = [];
for (const [family, src, dst] of [
  ["IPv4", "198.18.0.2", "198.19.0.10"],
  ["IPv6", "2001:db8:1::2", "2001:db8:2::10"],
] as const) {
  const spec: TcpSpec = {
    src: parseAddress(src),
    dst: parseAddress(dst),
    srcPort: 40000,
    dstPort: 443,
    seq: 123456789,
    ack: 987654321,
    flags: TcpFlag.ACK | TcpFlag.PSH,
    window: 65535,
    options: { timestamp: { value: 1, echo: 2 } },
    payload: Buffer.alloc(1400, 0xab),
  };
  const packet = buildTcpPacket(spec);
  const out = Buffer.allocUnsafe(packet.length);
  let sink = 0;
  results.push(
    measure(`${family} parse headers (ip + tcp, ports, seq, flags)`, () => {
      const ip = parseIp(packet);
      const tcp = TcpView.parse(ip.payload);
      sink += tcp.srcPort + tcp.seq + tcp.flags;
    }),
    measure(`${family} parse + verify TCP checksum`, () => {
      const ip = parseIp(packet);
      const tcp = TcpView.parse(ip.payload);
      if (tcp.verifyChecksum(ip)) sink++;
    }),
    measure(`${family} build into a reused buffer`, () => {
      sink += writeTcpPacket(out, 0, spec);
    }),
    measure(`${family} build into a new buffer`, () => {
      sink += buildTcpPacket(spec).length;
    }),
  );
  if (sink === 0) console.log("");
}

const bytes = 1400 + 20 + 32;
console.log(
  `Packet codec micro-benchmark (1,400-byte TCP payload, node ${process.version}, ${DURATION_MS} ms each)`,
);
for (const { name, perSecond } of results) {
  const gbit = ((perSecond * bytes * 8) / 1e9).toFixed(1);
  console.log(
    `  ${name.padEnd(52)} ${Math.round(perSecond).toLocaleString("en-US").padStart(12)} packets/s  (~${gbit} Gbit/s)`,
  );
}
