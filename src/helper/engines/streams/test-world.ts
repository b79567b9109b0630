// The streams tests' world (not a test file itself): an entrance Link with its LinkStreamOpener and
// an exit Link with a NAT engine's stream forwarder over a memory pipe, a real TCP server on
// loopback, and a real UDP DNS resolver on loopback behind the exit's DNS engine.
import { createHash } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { once } from "node:events";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { decode } from "dns-packet";
import { Capability } from "../../../shared/link-protocol.js";
import { DnsEngine } from "../dns/engine.js";
import { dnsNameResolver } from "../dns/name-lookup.js";
import { makeResponse } from "../dns/test-support.js";
import { Link } from "../link/link.js";
import { createMemoryPipe } from "../link/memory-pipe.js";
import { CapturingOutput } from "../nat/capturing-output.js";
import { EgressPolicy } from "../nat/egress-policy.js";
import { DEFAULT_NAT_LIMITS, NatEngine } from "../nat/engine.js";
import type { TcpLimits } from "../nat/tcp/limits.js";
import type { StreamForwarder } from "../nat/stream-forwarder.js";
import type { LinkStream } from "../../../shared/link-streams.js";
import { LinkStreamOpener } from "./stream-opener.js";

export const SERVER_NAME = "s.test";
/** Its first address refuses (nothing listens on 127.0.0.2), its second is the test server's. */
export const SECOND_ADDRESS_NAME = "second.s.test";
/** None of its addresses accept. */
export const DEAD_NAME = "dead.s.test";

const ADDRESSES: Record<string, string[]> = {
  [SERVER_NAME]: ["127.0.0.1"],
  [SECOND_ADDRESS_NAME]: ["127.0.0.2", "127.0.0.1"],
  [DEAD_NAME]: ["127.0.0.2", "127.0.0.3"],
};

/** A resolver on 127.0.0.1 that knows the names above (A records only) and nothing else. */
export async function fakeResolver(): Promise<{ port: number; close: () => void }> {
  const udp: UdpSocket = createSocket("udp4");
  udp.bind(0, "127.0.0.1");
  await once(udp, "listening");
  udp.on("message", (query, peer) => {
    const question = decode(query).questions[0];
    const addresses = question ? ADDRESSES[question.name] : undefined;
    const known = addresses !== undefined;
    const answers =
      known && question?.type === "A"
        ? addresses.map((data) => ({ type: "A" as const, name: question.name, ttl: 60, data }))
        : [];
    udp.send(makeResponse(query, { rcode: known ? 0 : 3, answers }), peer.port, peer.address);
  });
  return { port: udp.address().port, close: () => udp.close() };
}

export interface TestServer {
  port: number;
  sockets: Socket[];
  /** Resolves with the next connection, accepted already or later. */
  next(): Promise<Socket>;
  close(): void;
}

export async function tcpServer(): Promise<TestServer> {
  const sockets: Socket[] = [];
  const waiting: Array<(socket: Socket) => void> = [];
  let taken = 0;
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("error", () => undefined);
    sockets.push(socket);
    const waiter = waiting.shift();
    if (waiter) {
      taken++;
      waiter(socket);
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return {
    port: address.port,
    sockets,
    next: () =>
      taken < sockets.length
        ? Promise.resolve(sockets[taken++]!)
        : new Promise((resolve) => waiting.push(resolve)),
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

export interface World {
  opener: LinkStreamOpener;
  forwarder: StreamForwarder;
  nat: NatEngine;
  policy: EgressPolicy;
  dns: DnsEngine;
  entranceLink: Link;
  exitLink: Link;
  close(): void;
}

/**
 * Opens a stream by `name` to the server, which it must reach at 127.0.0.1, and checks that what
 * it writes (`text`) arrives: the stream and the server's end of it.
 */
export async function openAndSay(
  w: World,
  server: TestServer,
  name: string,
  text: string,
): Promise<{ stream: LinkStream; peer: Socket }> {
  const stream = await w.opener.open({ kind: "name", name, port: server.port });
  assert.equal(stream.remoteAddress, "127.0.0.1");
  const peer = await server.next();
  stream.write(Buffer.from(text));
  const [bytes] = (await once(peer, "data")) as [Buffer];
  assert.equal(bytes.toString(), text);
  return { stream, peer };
}

export interface WorldOptions {
  /** "Allow access to this computer": the tests' server is on loopback. Default true. */
  allowLocal?: boolean;
  maxTcpFlows?: number;
  /** The NAT engine's buffer budget for all flows. */
  totalBufferBytes?: number;
  resolverPort?: number;
  /** The TCP limits streams share (idle timeouts, connect timeout). */
  tcp?: Partial<TcpLimits>;
}

export async function world(options: WorldOptions = {}): Promise<World> {
  const [a, b] = createMemoryPipe();
  const exitLink = new Link(b, { role: "exit", softwareVersion: "test", capabilities: Capability.Streams });
  const entranceLink = new Link(a, {
    role: "entrance",
    softwareVersion: "test",
    capabilities: Capability.Streams,
  });
  const policy = new EgressPolicy({
    prefixes: [],
    allowLocal: options.allowLocal ?? true,
    localAddresses: () => [],
  });
  const nat = new NatEngine({
    output: new CapturingOutput(),
    policy,
    linkMtu: 1500,
    limits: {
      ...DEFAULT_NAT_LIMITS,
      tcp: { ...DEFAULT_NAT_LIMITS.tcp, ...options.tcp },
      maxTcpFlows: options.maxTcpFlows ?? DEFAULT_NAT_LIMITS.maxTcpFlows,
      totalBufferBytes: options.totalBufferBytes ?? DEFAULT_NAT_LIMITS.totalBufferBytes,
    },
  });
  const dns = new DnsEngine({
    resolvers:
      options.resolverPort === undefined ? [] : [{ address: "127.0.0.1", port: options.resolverPort }],
    lookup: () => Promise.reject(new Error("no getaddrinfo in this test")),
    searchDomains: () => Promise.resolve([]),
  });
  const forwarder = nat.attachStreams(exitLink, {
    resolve: dnsNameResolver(dns),
    entranceAddress: "198.18.0.1",
  });
  const opener = new LinkStreamOpener(entranceLink, { openTimeoutMs: 2_000 });
  await Promise.all([entranceLink.ready, exitLink.ready]);
  return {
    opener,
    forwarder,
    nat,
    policy,
    dns,
    entranceLink,
    exitLink,
    close: () => {
      entranceLink.close();
      exitLink.close();
      nat.close("test over");
      dns.close();
    },
  };
}

/** `size` bytes of a repeatable pattern, in chunks of `chunk`. */
export function* pattern(size: number, seed: number, chunk = 64 * 1024): Generator<Buffer> {
  for (let offset = 0; offset < size; offset += chunk) {
    const piece = Buffer.alloc(Math.min(chunk, size - offset));
    for (let i = 0; i < piece.length; i++) piece[i] = (offset + i) * 7 + seed;
    yield piece;
  }
}

export function sha256Of(chunks: Iterable<Buffer>): string {
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest("hex");
}
