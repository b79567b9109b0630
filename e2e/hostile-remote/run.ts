/**
 * The structured remote fuzzer's driver: sends the generator's packets over the agent's end of
 * the link in batches, settles the exit's answers with the oracle, resets the flows it opened,
 * runs downloads through the same exit the whole time, and samples the helper's memory.
 */
import {
  buildTcpPacket,
  IpProtocol,
  parseAddress,
  parseIp,
  PacketError,
  TcpFlag,
  TcpView,
} from "../../src/helper/engines/packet/index.js";
import { deterministicBytes, sha256 } from "../nat/content.js";
import { LAN, LINK_SUBNET } from "../netns/address-plan.js";
import { isFloodAddress, tcpFloodProbe, tcpFloodReset, udpFloodProbe } from "./flood.js";
import { ProbeGenerator } from "./generator.js";
import type { HostileLab } from "./lab.js";
import { Oracle } from "./oracle.js";
import { Answer, classifyAnswer, type Probe } from "./probe.js";
import { Prng } from "./prng.js";
import { Download } from "./transfer.js";

const BATCH = 256;
/** Probes that opened something and await their answer: far below the exit's limits (512 dials). */
const MAX_DIALS_IN_FLIGHT = 128;
/** Required answers outstanding: bounds what the exit queues for us, far below its link queue. */
const MAX_OWED = 20_000;
const SWEEP_MS = 250;
const DOWNLOAD_PAUSE_MS = 500;
/** After the last probe, how long the slowest answer may take. */
const SETTLE_MS = 25_000;
/**
 * How far main's view of the NAT table may lag behind the helper after the floods: its deltas
 * (megabytes of JSON once the TCP flood's 16,384 flows close) queue on a loaded machine.
 */
const TABLE_VIEW_LAG_MS = 30_000;

export interface FuzzOptions {
  packets: number;
  seed: number;
  /** Floods past the exit's flow limits after the mixed packets: how many SYNs and datagrams. */
  floods?: { tcp: number; udp: number };
  /** Bytes per download; downloads follow one another (a short pause between) until the end. */
  downloadBytes: number;
  log(line: string): void;
}

export interface FuzzReport {
  seed: number;
  /** Mixed probes sent (the floods are counted in `floods`). */
  sent: number;
  floods: {
    tcpSent: number;
    /** Flood SYNs answered with a SYN-ACK (a flow opened), and with a RST (over the limit). */
    tcpSynAcks: number;
    tcpResets: number;
    udpSent: number;
    /** Flood datagrams S echoed back through the exit (each one a flow it opened). */
    udpEchoed: number;
  };
  required: number;
  answered: number;
  answeredByKind: Record<string, number>;
  missing: number;
  unsolicited: number;
  /** SYNs sent again because the exit's dial queue was full. */
  retransmitted: number;
  violations: string[];
  /** Every failure, counted by what failed. */
  violationCounts: Record<string, number>;
  downloads: number;
  downloadedBytes: number;
  /** SYNs of downloads refused while a flood filled the flow table (each sent again). */
  downloadRefusals: number;
  /** Why a download failed, if one did. */
  downloadError: string | undefined;
  rssSamples: number[];
  peakRss: number;
  /** The most flows open at once, by protocol, in the NAT table main sees (sampled). */
  peakFlows: { tcp: number; udp: number; icmp: number };
  elapsedMs: number;
  /** How the helper exited, if it did. */
  helperExit: string | undefined;
}

const TRANSFER_SRC = parseAddress(LINK_SUBNET.remote.v4);
const TRANSFER_DST = parseAddress(LAN.server.v4);
/** The SYN whose flow shows main's view has caught up: from a source no probe uses. */
const VIEW_MARKER = { src: parseAddress("198.18.9.1"), srcPort: 4242, dst: TRANSFER_DST, dstPort: 80 };
const VIEW_MARKER_REMOTE = "198.18.9.1:4242";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `promise`, at most `ms` (then gives `late`); the timer does not outlive the wait. */
async function within<T>(ms: number, promise: Promise<T>, late?: T): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T | undefined>((resolve) => (timer = setTimeout(() => resolve(late), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function runHostileRemote(lab: HostileLab, options: FuzzOptions): Promise<FuzzReport> {
  const { link } = lab;
  const started = Date.now();
  const generator = new ProbeGenerator(new Prng(options.seed));
  const oracle = new Oracle(options.seed, (packet) => link.sendPacket(packet));
  let helperExit: string | undefined;
  void lab.helper.exited.then((info) => (helperExit = `code ${info.code}, signal ${info.signal}`));

  const rssSamples: number[] = [];
  const peakFlows = { tcp: 0, udp: 0, icmp: 0 };
  const sample = (): void => {
    const open = lab.openFlows();
    for (const protocol of ["tcp", "udp", "icmp"] as const)
      peakFlows[protocol] = Math.max(peakFlows[protocol], open[protocol]);
    try {
      rssSamples.push(lab.helperMemory("VmRSS"));
    } catch {
      // exited between the check and the read: the exit is reported on its own
    }
  };
  const sampler = setInterval(sample, 250);

  const expectedSha = sha256(deterministicBytes(options.downloadBytes));
  let download: Download | undefined;
  let downloads = 0;
  let downloadedBytes = 0;
  let downloadRefusals = 0;
  let downloadError: string | undefined;
  let fuzzing = true;
  const nextDownload = (): void => {
    if (!fuzzing || downloadError !== undefined) return;
    const current = new Download(
      (packet) => link.sendPacket(packet),
      {
        src: TRANSFER_SRC,
        dst: TRANSFER_DST,
        srcPort: 40_000 + (downloads % 20_000),
        dstPort: 80,
      },
      options.downloadBytes,
    );
    download = current;
    current.done.then(
      (result) => {
        if (result.sha256 !== expectedSha || result.bodyBytes !== options.downloadBytes) {
          downloadError = `download ${downloads + 1} arrived changed: ${result.bodyBytes} bytes, sha256 ${result.sha256}`;
          return;
        }
        downloads++;
        downloadedBytes += result.bodyBytes;
        downloadRefusals += current.refusals;
        // A pause between downloads: the fuzzer's packets need the CPU more than a saturated link.
        setTimeout(nextDownload, DOWNLOAD_PAUSE_MS);
      },
      (error: Error) => {
        downloadError ??= `download ${downloads + 1}: ${error.message}`;
      },
    );
  };

  const floodAnswers = {
    tcpSynAcks: new Set<string>(),
    tcpResets: new Set<string>(),
    udpEchoed: new Set<string>(),
  };
  link.on("packets", (packets) => {
    for (const packet of packets) {
      try {
        const ip = parseIp(packet);
        if (ip.protocol === IpProtocol.TCP) {
          const tcp = TcpView.parse(ip.payload);
          if (download?.owns(tcp.srcPort, tcp.dstPort, ip.src, ip.dst)) {
            download.receive(tcp);
            continue;
          }
        }
        const answer = classifyAnswer(packet);
        if (!answer) continue;
        oracle.settle(answer);
        if (isFloodAddress(ip.dst)) {
          if (answer.kind === Answer.SYN_ACK) floodAnswers.tcpSynAcks.add(answer.key);
          else if (answer.kind === Answer.RST) floodAnswers.tcpResets.add(answer.key);
          else if (answer.kind === Answer.UDP) floodAnswers.udpEchoed.add(answer.key);
          continue; // the TCP flood's flows are reset all at once, after it
        }
        // A flow the fuzzer opened: reset it, so that flows never pile up to the exit's limit.
        if (answer.tcp && answer.kind & (Answer.SYN_ACK | Answer.TCP_OTHER)) {
          link.sendPacket(
            buildTcpPacket({
              src: ip.dst,
              dst: ip.src,
              srcPort: answer.tcp.dstPort,
              dstPort: answer.tcp.srcPort,
              seq: answer.tcp.ack,
              ack: 0,
              flags: TcpFlag.RST,
              window: 0,
            }),
          );
        }
      } catch (error) {
        if (!(error instanceof PacketError)) throw error;
        oracle.violations.push(`the exit sent a malformed packet: ${packet.toString("hex")}`);
      }
    }
    download?.flush();
  });

  nextDownload();
  /** The last batches sent: when the helper dies, one of them killed it. */
  const recent: Probe[][] = [];
  let lastSweep = Date.now();
  let lastLog = Date.now();
  const going = (): boolean =>
    helperExit === undefined && link.isOpen && oracle.violations.length === 0 && downloadError === undefined;
  const tick = (now: number): void => {
    if (now - lastSweep >= SWEEP_MS) {
      oracle.sweep(now);
      lastSweep = now;
    }
    if (now - lastLog >= 10_000) {
      options.log(
        `${oracle.sent} sent, ${oracle.answered} of ${oracle.required} owed answers, ` +
          `${downloads} downloads, RSS ${((rssSamples.at(-1) ?? 0) / 2 ** 20).toFixed(0)} MiB`,
      );
      lastLog = now;
    }
  };
  /** Sends `total` probes made by `make`, as fast as the exit settles them. */
  const pump = async (total: number, make: (count: number) => Probe[]): Promise<number> => {
    let sent = 0;
    while (sent < total && going()) {
      const now = Date.now();
      tick(now);
      if (oracle.dialsInFlight > MAX_DIALS_IN_FLIGHT || oracle.owed > MAX_OWED || !link.writable) {
        await sleep(2);
        continue;
      }
      const probes = make(Math.min(BATCH, total - sent));
      recent.push(probes);
      if (recent.length > 2) recent.shift();
      for (const probe of probes) oracle.expect(probe, now);
      link.sendPackets(probes.map((p) => p.packet));
      sent += probes.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return sent;
  };
  /** Waits until every answer owed so far came or is overdue. */
  const settle = async (): Promise<void> => {
    const settleBy = Date.now() + SETTLE_MS;
    while (oracle.owed > 0 && Date.now() < settleBy && helperExit === undefined) {
      await sleep(SWEEP_MS);
      tick(Date.now());
    }
  };
  const counts = { mixed: 0, tcpSent: 0, udpSent: 0 };
  try {
    counts.mixed = await pump(options.packets, (count) => generator.batch(count));
    if (options.floods && going()) {
      await settle();
      let n = 0;
      counts.tcpSent = await pump(options.floods.tcp, (count) =>
        Array.from({ length: count }, () => tcpFloodProbe(n++)),
      );
      await settle();
      for (let i = 0; i < counts.tcpSent; i += BATCH) {
        const end = Math.min(counts.tcpSent, i + BATCH);
        link.sendPackets(Array.from({ length: end - i }, (_, k) => tcpFloodReset(i + k)));
        while (!link.writable && going()) await sleep(2);
      }
      let m = 0;
      counts.udpSent = await pump(options.floods.udp, (count) =>
        Array.from({ length: count }, () => udpFloodProbe(m++)),
      );
      // Nothing is owed to the datagrams: wait until S's echoes stop coming.
      let echoed = -1;
      for (let waited = 0; waited < 10_000 && echoed !== floodAnswers.udpEchoed.size; waited += 1_000) {
        echoed = floodAnswers.udpEchoed.size;
        await sleep(1_000);
      }
      // The floods' peaks are read from main's view of the table: wait until it has caught up.
      const caughtUp = lab.flowFrom(VIEW_MARKER_REMOTE);
      link.sendPacket(buildTcpPacket({ ...VIEW_MARKER, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 65535 }));
      const lagged = await within(
        TABLE_VIEW_LAG_MS,
        caughtUp.then(() => false),
        true,
      );
      if (lagged)
        oracle.violations.push(
          `main's view of the NAT table was still behind ${TABLE_VIEW_LAG_MS} ms after the floods`,
        );
      else sample();
    }
    fuzzing = false;
    await settle();
    // A dead helper owes nothing more: its death is the failure, and the suspects below say why.
    if (helperExit === undefined) oracle.sweep(Number.POSITIVE_INFINITY);
    // The download under way when the last probe went out finishes too.
    if (download && helperExit === undefined)
      await within(60_000, Promise.race([download.done.catch(() => undefined), lab.helper.exited]));
  } finally {
    fuzzing = false;
    clearInterval(sampler);
  }
  // Unfinished only when it did not finish in time: that is a failure too.
  if (download && !download.finished) downloadError ??= `download ${downloads + 1} did not finish`;
  download?.stop();
  if (helperExit !== undefined) {
    // The suspects: what opened something in the last batches (a refusal needs no socket).
    for (const probe of recent.flat().filter((p) => p.dials))
      oracle.violations.push(
        `sent just before the helper died: ${probe.label}: ${probe.packet.toString("hex")}`,
      );
  }
  const peakRss = helperExit === undefined ? lab.helperMemory("VmHWM") : Math.max(0, ...rssSamples);
  return {
    seed: options.seed,
    sent: counts.mixed,
    floods: {
      tcpSent: counts.tcpSent,
      tcpSynAcks: floodAnswers.tcpSynAcks.size,
      // A flow that opened and was later reset counts as opened.
      tcpResets: [...floodAnswers.tcpResets].filter((key) => !floodAnswers.tcpSynAcks.has(key)).length,
      udpSent: counts.udpSent,
      udpEchoed: floodAnswers.udpEchoed.size,
    },
    required: oracle.required,
    answered: oracle.answered,
    answeredByKind: oracle.answeredByKind,
    missing: oracle.missing,
    unsolicited: oracle.unsolicited,
    retransmitted: oracle.retransmitted,
    violations: oracle.violations,
    violationCounts: Object.fromEntries(oracle.violationCounts),
    downloads,
    downloadedBytes,
    downloadRefusals,
    downloadError,
    rssSamples,
    peakRss,
    peakFlows,
    elapsedMs: Date.now() - started,
    helperExit,
  };
}
