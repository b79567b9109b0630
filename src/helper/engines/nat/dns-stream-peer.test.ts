// DNS over TCP to the stub is answered in this process: the remote's flow goes through the
// userspace TCP straight to a DNS stream session, with no socket opened on this computer.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DNS_STREAM_LIMITS,
  DnsStreamSession,
  type DnsQueryHandler,
  type DnsStreamLimits,
} from "../dns/stream-session.js";
import { buildTcpPacket, parseAddress, parseIp, TcpFlag, TcpView } from "../packet/index.js";
import { CapturingOutput } from "./capturing-output.js";
import { EgressPolicy } from "./egress-policy.js";
import { NatEngine } from "./engine.js";

const REMOTE = parseAddress("198.18.0.1");
const STUB = parseAddress("198.18.0.2");
const { SYN, ACK, FIN, PSH } = TcpFlag;

function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length);
  return Buffer.concat([prefix, message]);
}

const tcpFrom = (port: number) => (packet: Buffer) => {
  const ip = parseIp(packet);
  if (ip.protocol !== 6) return undefined;
  const tcp = TcpView.parse(ip.payload);
  return tcp.dstPort === port
    ? { seq: tcp.seq, ack: tcp.ack, flags: tcp.flags, window: tcp.window, payload: Buffer.from(tcp.payload) }
    : undefined;
};

const sockets = (): number =>
  process.getActiveResourcesInfo().filter((kind) => kind.startsWith("TCP")).length;

/** A NAT engine whose stub answers DNS over TCP with `handler`; the remote speaks from `port`. */
function stubOverTcp(handler: DnsQueryHandler, limits: DnsStreamLimits, port: number) {
  const output = new CapturingOutput();
  const engine = new NatEngine({
    output,
    policy: new EgressPolicy({ prefixes: [], allowLocal: false }),
    linkMtu: 1500,
    dnsStub: {
      addresses: [STUB],
      resolver: {
        answerUdp: () => Promise.resolve(null),
        tcp: { serve: (stream) => new DnsStreamSession(stream, handler, limits), idleTimeoutMs: 10_000 },
      },
    },
  });
  const send = (seq: number, ack: number, flags: number, payload?: Buffer): void =>
    engine.handlePackets([
      buildTcpPacket({
        src: REMOTE,
        dst: STUB,
        srcPort: port,
        dstPort: 53,
        seq,
        ack,
        flags,
        window: 65535,
        payload,
      }),
    ]);
  return { output, engine, send, next: () => output.next(tcpFrom(port)) };
}

test("a DNS query over TCP to the stub is answered by the engine in process, then both sides close", async () => {
  const queries: Buffer[] = [];
  const socketsBefore = sockets();
  const { output, engine, send, next } = stubOverTcp(
    {
      handleQuery: (query) => {
        queries.push(query);
        return Promise.resolve(Buffer.concat([query, Buffer.from(" answered")]));
      },
    },
    DNS_STREAM_LIMITS,
    40000,
  );

  send(100, 0, SYN);
  const synAck = await next();
  assert.equal(synAck.flags, SYN | ACK);
  assert.equal(sockets(), socketsBefore, "no socket was opened for the flow");
  const query = frame(Buffer.from("query-1"));
  send(101, synAck.seq + 1, ACK | PSH, query);
  assert.equal((await next()).ack, 101 + query.length, "the query is acknowledged");
  const answer = await next();
  assert.deepEqual(answer.payload, frame(Buffer.from("query-1 answered")));
  assert.deepEqual(queries, [Buffer.from("query-1")]);

  const finSeq = 101 + query.length;
  send(finSeq, answer.seq + answer.payload.length, ACK | FIN);
  const fin = await output.next((packet) => {
    const segment = tcpFrom(40000)(packet);
    return segment && segment.flags & FIN ? segment : undefined;
  });
  assert.equal(fin.ack, finSeq + 1, "our FIN acknowledges theirs: the session ended once it had answered");
  send(finSeq + 1, fin.seq + 1, ACK);
  assert.equal(engine.table.snapshot()[0]?.closeReason, "closed");
  engine.close("test over");
});

test("past the pipelining bound, queries wait in the peer and count as buffered, then are all answered", async () => {
  const held: (() => void)[] = [];
  const { engine, send, next } = stubOverTcp(
    { handleQuery: (query) => new Promise((resolve) => held.push(() => resolve(query))) },
    { maxQueryBytes: 512, maxPipelined: 4 },
    40001,
  );
  const queries = (from: number, count: number): Buffer =>
    Buffer.concat(
      Array.from({ length: count }, (_, i) => frame(Buffer.from(`q${String(from + i).padStart(3, "0")}`))),
    );

  send(100, 0, SYN);
  const synAck = await next();
  const first = queries(0, 4);
  send(101, synAck.seq + 1, ACK, first);
  await next();
  const second = queries(4, 4);
  send(101 + first.length, synAck.seq + 1, ACK, second);
  const secondAck = await next();
  assert.equal(secondAck.ack, 101 + first.length + second.length, "taken and acknowledged");
  assert.equal(held.length, 4, "only four queries are with the engine");
  assert.equal(engine.budget.usedBytes, second.length, "the four waiting in the peer count as buffered");
  while (held.length > 0) {
    held.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  let answered = Buffer.alloc(0);
  while (answered.length < first.length + second.length)
    answered = Buffer.concat([answered, (await next()).payload]);
  assert.deepEqual(answered, Buffer.concat([first, second]), "every query answered, in order (echoed)");
  engine.close("test over");
});
