/**
 * The DNS engine as the e2e test runs it inside namespace L, with L's resolver list (the
 * namespace's /etc/resolv.conf) and L's getaddrinfo:
 *   node --import tsx e2e/dns/engine-process.ts
 * Answers DNS on 127.0.0.1:PORT, UDP and TCP on the same port, so that dig's retry over TCP after
 * a truncated UDP answer reaches the TCP server. Emits EngineReady, then answers "report"
 * (engine-protocol.ts, over e2e/netns/child-rpc.ts).
 */
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { DnsEngine } from "../../src/helper/engines/dns/engine.js";
import { readSystemResolvers } from "../../src/helper/engines/dns/resolv-conf.js";
import { startDnsTcpServer, type DnsTcpServer } from "../../src/helper/engines/dns/tcp-server.js";
import { emit, serve } from "../netns/child-rpc.js";
import type { EngineCommands, EngineReady } from "./engine-protocol.js";

const engine = new DnsEngine();

/** A UDP port whose TCP twin is free too; a few tries, since the two are taken separately. */
async function listen(): Promise<{ udp: Socket; tcp: DnsTcpServer }> {
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket("udp4");
    udp.bind(0, "127.0.0.1");
    await once(udp, "listening");
    try {
      const tcp = await startDnsTcpServer(engine, { port: udp.address().port });
      return { udp, tcp };
    } catch (error) {
      udp.close();
      if (attempt >= 10) throw error;
    }
  }
}

const { udp, tcp } = await listen();
udp.on("message", (query, peer) => {
  void engine.handleQuery(query, "udp").then((answer) => {
    if (answer) udp.send(answer, peer.port, peer.address);
  });
});

serve<EngineCommands>({
  report: () => ({ counters: engine.counters, rows: engine.table.snapshot() }),
});

const stop = (): void => {
  udp.close();
  engine.close();
  void tcp.close().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

const ready: EngineReady = { ready: true, port: tcp.port, resolvers: await readSystemResolvers() };
emit(ready);
