// Runs an ICMP forwarder inside a test namespace on behalf of e2e/icmp.test.ts:
//   ip netns exec NS node script.mjs  (bundled first: e2e/netns/any-user-script.ts)
// Asked "run" (protocol.ts, over e2e/netns/child-rpc.ts), it feeds the forwarder echo requests as
// the NAT engine would, waits for what the forwarder writes back towards the remote, closes the
// forwarder, stops reading stdin and answers its ChildReport; then it simply returns: the process
// exits only if close() really released the event loop (the test checks).
import {
  parseAddress,
  parseIp,
  IcmpView,
  buildIcmpEchoPacket,
} from "../../src/helper/engines/packet/index.js";
import type { IcmpForwarder } from "../../src/helper/engines/nat/icmp-forwarder.js";
import {
  createIcmpForwarder,
  LinuxIcmpForwarder,
  openEchoSocket,
  PingCommandForwarder,
} from "../../src/helper/engines/nat/icmp/index.js";
import { testContext } from "../../src/helper/engines/nat/icmp/testing.js";
import { serve, type Serving } from "../netns/child-rpc.js";
import type { ChildReport, ChildRequest, IcmpChildCommands, ProbeResult } from "./protocol.js";

const logs: string[] = [];
const log = (message: string): void => void logs.push(message);

function probe(request: ChildRequest, family: 4 | 6): ProbeResult {
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

function makeForwarder(request: ChildRequest, context: ReturnType<typeof testContext>): IcmpForwarder {
  if (request.forwarder === "create") {
    return createIcmpForwarder(context, { log, pingCommand: { waitMs: 2_000 } });
  }
  return new LinuxIcmpForwarder(context, {
    log,
    openSocket: (family, onReply, onError) => openEchoSocket(family, onReply, onError, request.socketMode),
  });
}

async function run(request: ChildRequest): Promise<ChildReport> {
  const probes = { 4: probe(request, 4), 6: probe(request, 6) };
  const context = testContext(request.prefixes);
  const forwarder = makeForwarder(request, context);
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
  serving.close();
  return report;
}

const serving: Serving = serve<IcmpChildCommands>({ run });
