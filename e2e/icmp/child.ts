// Runs an ICMP forwarder inside a test namespace on behalf of e2e/icmp.test.ts:
//   ip netns exec NS node script.mjs '<ChildRequest JSON>'  (bundled first: e2e/netns/any-user-script.ts)
// It feeds the forwarder echo requests as the NAT engine would, waits for what the forwarder writes
// back towards the remote, prints one ChildReport line, closes the forwarder and then simply
// returns: the process exits only if close() really released the event loop (the test checks).
import { parseAddress, parseIp, IcmpView, buildIcmpEchoPacket } from "../../src/helper/packet/index.js";
import type { IcmpForwarder } from "../../src/helper/nat/icmp-forwarder.js";
import {
  createIcmpForwarder,
  LinuxIcmpForwarder,
  openEchoSocket,
  PingCommandForwarder,
} from "../../src/helper/nat/icmp/index.js";
import { testContext } from "../../src/helper/nat/icmp/testing.js";
import type { ChildReport, ChildRequest, ProbeResult } from "./protocol.js";

const request = JSON.parse(process.argv[2] ?? "{}") as ChildRequest;
const logs: string[] = [];
const log = (message: string): void => void logs.push(message);

function probe(family: 4 | 6): ProbeResult {
  try {
    const socket = openEchoSocket(
      family,
      () => {},
      () => {},
      request.socketMode ?? "auto",
    );
    socket.close();
    return { mode: socket.mode, identifier: socket.identifier };
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return { code: String(code), message: String(message) };
  }
}

function makeForwarder(context: ReturnType<typeof testContext>): IcmpForwarder {
  if (request.forwarder === "create") {
    return createIcmpForwarder(context, { log, pingCommand: { waitMs: 2_000 } });
  }
  return new LinuxIcmpForwarder(context, {
    log,
    openSocket: (family, onReply, onError) => openEchoSocket(family, onReply, onError, request.socketMode),
  });
}

async function main(): Promise<void> {
  const probes = { 4: probe(4), 6: probe(6) };
  const context = testContext(request.prefixes);
  const forwarder = makeForwarder(context);
  const report: ChildReport = {
    forwarder:
      forwarder instanceof LinuxIcmpForwarder
        ? "LinuxIcmpForwarder"
        : forwarder instanceof PingCommandForwarder
          ? "PingCommandForwarder"
          : "unknown",
    probes,
    modes: {},
    packets: [],
    counters: {},
    rows: [],
    logs,
  };
  try {
    for (const spec of request.requests) {
      // As the engine hands them over: views over one packet from the link.
      const packet = buildIcmpEchoPacket({
        kind: "request",
        src: parseAddress(spec.src),
        dst: parseAddress(spec.dst),
        identifier: spec.identifier,
        sequence: spec.sequence,
        payload: Buffer.from(spec.payloadHex, "hex"),
      });
      const ip = parseIp(packet);
      forwarder.handle(ip, IcmpView.parse(ip.payload, ip.version));
    }
    await context.output.waitFor(request.expectPackets, request.timeoutMs).catch((error: Error) => {
      report.error = error.message;
    });
    if (forwarder instanceof LinuxIcmpForwarder) report.modes = forwarder.modes;
    report.rows = context.table.snapshot().map(({ remote, destination, upPackets, downPackets, state }) => ({
      remote,
      destination,
      upPackets,
      downPackets,
      state,
    }));
  } finally {
    forwarder.close("test done");
  }
  report.packets = context.output.packets.map((packet) => packet.toString("base64"));
  report.counters = { ...context.counters };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

void main();
