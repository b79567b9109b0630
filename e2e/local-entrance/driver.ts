// Runs the local helper's entrance (src/helper/local/local-entrance.ts) inside a namespace L:
//   ip netns exec L node --import tsx e2e/local-entrance/driver.ts '<EntranceDriverConfig JSON>'
// Its port stands in for the exit on the remote: it answers ICMP echo requests, and DNS queries
// to the remote's stub with one name's address, so that ping and the resolver in L can be tested
// before a real remote exit is on the other end. Every packet it sees goes out as an event.
import { linkAddresses } from "../../src/shared/link-addresses.js";
import { buildAddressAnswer } from "../../src/helper/engines/dns/messages.js";
import { parseMessage, readName } from "../../src/helper/engines/dns/wire.js";
import {
  buildIcmpEchoPacket,
  buildUdpPacket,
  formatAddress,
  parseAddress,
  parseIp,
  parseTransport,
} from "../../src/helper/engines/packet/index.js";
import type { PacketBatchHandler, PacketPort } from "../../src/helper/engines/port/packet-port.js";
import { LocalEntrance } from "../../src/helper/local/local-entrance.js";
import { recoverLocalJournals } from "../../src/helper/local/local-journal.js";
import { describeUndoReport } from "../../src/helper/system/journal.js";
import { assertNamespaceResolvConf } from "../agent/resolv-conf-guard.js";
import { emit, serve } from "../netns/child-rpc.js";
import type { EntranceDriverCommands, EntranceDriverConfig, EntranceDriverEvent } from "./protocol.js";

const config = JSON.parse(process.argv[2] ?? "{}") as EntranceDriverConfig;
const guard = (): Promise<void> => assertNamespaceResolvConf(config.netns);
await guard(); // before anything: this process must see the namespace's resolv.conf
const send = (event: EntranceDriverEvent): void => emit(event);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const stub = linkAddresses(config.subnetV4).stub;

/** The stand-in remote exit: answers what it can, reports everything. */
function remoteExit(): PacketPort {
  let toTun: PacketBatchHandler = () => undefined;
  const answer = (packet: Buffer): Buffer | null => {
    const ip = parseIp(packet);
    const transport = parseTransport(ip);
    send({ event: "packet", dst: formatAddress(ip.dst), kind: transport.kind });
    if (transport.kind === "icmp" && (transport.icmp.type === 8 || transport.icmp.type === 128)) {
      return buildIcmpEchoPacket({
        src: ip.dst,
        dst: ip.src,
        kind: "reply",
        identifier: transport.icmp.identifier,
        sequence: transport.icmp.sequence,
        payload: transport.icmp.payload,
      });
    }
    if (transport.kind === "udp" && transport.udp.dstPort === 53 && formatAddress(ip.dst) === stub) {
      const query = transport.udp.payload;
      const question = parseMessage(query).questions[0];
      if (!question) return null;
      const name = readName(query, question.nameStart);
      const matches = name.toLowerCase() === `${config.remoteName.toLowerCase()}.` && question.type === 1;
      const address = parseAddress(config.remoteAddress);
      const response = buildAddressAnswer(
        {
          name: query.subarray(question.nameStart, question.nameEnd),
          type: question.type,
          klass: question.klass,
        },
        matches && address ? [Buffer.from(address)] : [],
        60,
      );
      response.writeUInt16BE(query.readUInt16BE(0), 0);
      return buildUdpPacket({
        src: ip.dst,
        dst: ip.src,
        srcPort: 53,
        dstPort: transport.udp.srcPort,
        payload: response,
      });
    }
    return null;
  };
  return {
    send: (packet) => void port.sendAll([packet]),
    sendAll: (packets) => {
      const replies = packets.flatMap((packet) => answer(packet) ?? []);
      if (replies.length > 0) setImmediate(() => toTun(replies));
    },
    sendWith: (length, fill) => {
      const packet = Buffer.alloc(length);
      fill(packet, 0);
      port.sendAll([packet]);
    },
    writable: true,
    onDrain: () => undefined,
    onPackets: (handler) => {
      toTun = handler;
      return () => (toTun = () => undefined);
    },
    pause: () => undefined,
    resume: () => undefined,
  };
}
const port = remoteExit();

let entrance: LocalEntrance | undefined;
serve<EntranceDriverCommands>({
  open: async ({ routes, dnsDomains }) => {
    entrance = await LocalEntrance.open({
      journalDir: config.journalDir,
      subnetV4: config.subnetV4,
      subnetV6: config.subnetV6,
      mtu: 1500,
      routes,
      dnsDomains,
      port,
      log,
      beforeResolvConfWrite: guard,
    });
    return entrance.info;
  },
  close: async () => {
    const report = await (entrance?.close() ?? Promise.reject(new Error("not open")));
    return { lines: describeUndoReport(report), failed: report.failed.length };
  },
  recover: async () => {
    const lines: string[] = [];
    await recoverLocalJournals({
      dir: config.journalDir,
      log: (line) => lines.push(line),
      beforeResolvConfWrite: guard,
    });
    return lines;
  },
});
