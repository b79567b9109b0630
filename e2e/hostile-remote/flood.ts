/**
 * New-flow floods past the exit's limits (DEFAULT_NAT_LIMITS): TCP SYNs to S's echo port that
 * are never completed, then UDP datagrams from new tuples. Every SYN is still owed an answer:
 * a SYN-ACK while there is room, a RST ("too many flows") beyond it, never silence.
 */
import {
  buildTcpPacket,
  buildUdpPacket,
  parseAddress,
  TcpFlag,
} from "../../src/helper/engines/packet/index.js";
import { LAN } from "../netns/address-plan.js";
import { Answer, probeKey, type Probe } from "./probe.js";
import { UDP_ECHO_PORT } from "./targets.js";

const S4 = Buffer.from(parseAddress(LAN.server.v4));
/** The floods' own sources (198.18.6.0/24, 198.18.7.0/24): no other probe uses them. */
const TCP_POOL = 6;
const UDP_POOL = 7;
const ANSWER_MS = 20_000;

interface FloodEnds {
  src: Buffer;
  dst: Buffer;
  srcPort: number;
  dstPort: number;
}

/** The n-th flow of a flood from `pool`'s sources to S's echo port. */
function floodEnds(pool: number, n: number): FloodEnds {
  return {
    src: Buffer.from([198, 18, pool, 1 + Math.floor(n / 60_000)]),
    dst: S4,
    srcPort: 1024 + (n % 60_000),
    dstPort: UDP_ECHO_PORT,
  };
}

/** What every flood probe shares: its key, deadline and label. */
function floodProbe(
  protocol: "tcp" | "udp",
  what: string,
  n: number,
  ends: FloodEnds,
): Pick<Probe, "key" | "deadlineMs" | "label"> {
  return {
    key: probeKey(protocol, ends.src, ends.dst, ends.srcPort, ends.dstPort),
    deadlineMs: ANSWER_MS,
    label: `${what} ${n} of the flood to S port ${ends.dstPort}`,
  };
}

/** Whether an answer went to one of the floods' sources (they are not reset one by one). */
export function isFloodAddress(address: Uint8Array): boolean {
  return (
    address.length === 4 &&
    address[0] === 198 &&
    address[1] === 18 &&
    (address[2] === TCP_POOL || address[2] === UDP_POOL)
  );
}

/** The n-th SYN of the TCP flood; its sequence number is n, so the flood can be reset later. */
export function tcpFloodProbe(n: number): Probe {
  const ends = floodEnds(TCP_POOL, n);
  return {
    packet: buildTcpPacket({ ...ends, seq: n, ack: 0, flags: TcpFlag.SYN, window: 65535 }),
    ...floodProbe("tcp", "TCP SYN", n, ends),
    accept: Answer.SYN_ACK | Answer.RST,
    required: true,
    dials: true,
    retransmit: true,
  };
}

/** The RST that ends the n-th flood flow (and is ignored where the SYN was refused). */
export function tcpFloodReset(n: number): Buffer {
  return buildTcpPacket({ ...floodEnds(TCP_POOL, n), seq: n + 1, ack: 0, flags: TcpFlag.RST, window: 0 });
}

/** The n-th datagram of the UDP flood: S echoes it while the exit has room for its flow. */
export function udpFloodProbe(n: number): Probe {
  const ends = floodEnds(UDP_POOL, n);
  return {
    packet: buildUdpPacket({ ...ends, payload: Buffer.from(`flood ${n}`) }),
    ...floodProbe("udp", "UDP datagram", n, ends),
    accept: Answer.UDP,
    required: false,
    dials: false,
    retransmit: false,
  };
}
