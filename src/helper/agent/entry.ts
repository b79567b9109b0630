/**
 * The remote agent (entrance role), started over SSH by the broker: `backhaul-agent`.
 * With `--entrance tun` (the default) it owns a TUN device, routes the advertised prefixes into it
 * and points DNS at the stub; with `--entrance proxy` it runs as the user, without root, and serves
 * SOCKS5 and HTTP on loopback instead (proxy-entrance.ts). The link runs on stdin/stdout, logs go
 * to stderr. Every system change is journaled before it is made and undone on exit, link loss and
 * signals, and after a crash by the next start.
 */
import { join } from "node:path";
import { Duplex } from "node:stream";
import { parseArgs } from "node:util";
import { linkAddresses } from "../../shared/link-addresses.js";
import { Capability, type LinkConfig } from "../../shared/link-protocol.js";
import { VERSION } from "../../shared/version.js";
import {
  describeUndoReport,
  detectDnsConfigurator,
  DEFAULT_JOURNAL_PATH,
  Journal,
  openJournaledTun,
  RouteSync,
  systemUndo,
  undoOnShutdown,
} from "./index.js";
import { pumpTunAndLink } from "../engines/entrance.js";
import { linkPort } from "../engines/port/link-port.js";
import { tunPort } from "../system/tun/tun-port.js";
import { Link } from "../engines/link/link.js";
import type { TunDevice } from "../system/tun/index.js";
import { LinkStreamOpener } from "../engines/streams/stream-opener.js";
import {
  reportStreamStats,
  STREAM_STATS_INTERVAL_MS,
  streamStatsExtras,
} from "../engines/link/stream-stats.js";
import { ensurePrivateDirectory, proxyEnvPath, userStateDirectory } from "./proxy-env.js";
import { startProxyEntrance } from "./proxy-entrance.js";
import type { RoutePlan } from "./routes.js";
import {
  serveRemoteChecks,
  streamConnect,
  systemAgentProbes,
  type AgentCheckContext,
} from "./remote-diagnose.js";
import { readRemoteResolvers } from "./dns/remote-resolvers.js";
import { growLinkPipes } from "../system/link-pipes.js";
import { wireReverseExit } from "./reverse-exit-wiring.js";
import { tuneHeapForStreaming } from "../engines/heap-tuning.js";
import { withoutSkippedZones } from "./split-zones.js";
import { DnsSetup } from "./dns/dns-setup.js";
import { AGENT_DNS_MODES } from "../../shared/helper-protocol.js";
import { remoteDnsExtras } from "../../shared/remote-dns-status.js";
import { reportChangedStats } from "../engines/link/changed-stats.js";

const USAGE = `backhaul-agent ${VERSION}: the remote side of Backhaul (started by the backhaul app over SSH)

Usage: backhaul-agent [--entrance tun|proxy] [--tun NAME] [--journal PATH] [--keepalive SECONDS]
                      [--ssh-peer ADDRESS]
  Speaks the Backhaul link protocol on stdin/stdout. --entrance tun (default) needs root
  (CAP_NET_ADMIN) and /dev/net/tun; --entrance proxy needs neither: it serves SOCKS5 and HTTP on
  loopback and writes their settings to ~/.config/backhaul/proxy.env.
  --recover-only   undo what a previous agent left behind, then exit
`;

/** How often the agent looks whether its DNS status (split's counts) changed. */
const DNS_STATUS_INTERVAL_MS = 3_000;

function log(line: string): void {
  process.stderr.write(`backhaul agent: ${line}\n`);
}

// The SSH connection can close before the agent has undone its changes. A write to the closed
// stderr then fails; unhandled, that error's own log line fails the same way, forever, and the
// loop starves the undo. Logs are best effort; the link has its own error handling.
process.stderr.on("error", () => undefined);
process.stdout.on("error", () => undefined);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      entrance: { type: "string", default: "tun" },
      tun: { type: "string", default: "bh0" },
      journal: { type: "string" },
      keepalive: { type: "string", default: "5" },
      "ssh-peer": { type: "string" },
      "recover-only": { type: "boolean", default: false },
      version: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return void process.stdout.write(USAGE);
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  if (process.platform !== "linux") throw new Error(`the agent runs on Linux, not ${process.platform}`);
  const proxy = values.entrance === "proxy";
  if (!proxy && values.entrance !== "tun")
    throw new Error(`--entrance takes tun or proxy, not ${values.entrance}`);
  // Without root, the journal lives with the user's own Backhaul files.
  if (proxy && values.journal === undefined) await ensurePrivateDirectory(userStateDirectory());
  const journalPath =
    values.journal ?? (proxy ? join(userStateDirectory(), "journal.json") : DEFAULT_JOURNAL_PATH);

  const openTuns = new Map<string, TunDevice>();
  // The agent module prefixes its own lines.
  const raw = (line: string): void => void process.stderr.write(`${line}\n`);
  const journal = new Journal({ undo: systemUndo({ openTuns }), path: journalPath, log: raw });
  // Before anything else: a previous agent that crashed or was killed left changes behind.
  const recovery = await journal.recoverFromPreviousRun();
  if (recovery.previousOwner) {
    for (const line of describeUndoReport(recovery.report)) log(`previous run: ${line}`);
  }
  if (values["recover-only"]) return;
  // Before this agent changes the resolver: its exit must never ask the stub that points home.
  const remoteResolvers = await readRemoteResolvers();

  const shutdown = undoOnShutdown(journal, { log: raw });
  shutdown.watchStream(process.stdin, "the link");
  growLinkPipes(log);
  const stream = Duplex.from({ readable: process.stdin, writable: process.stdout });
  const link = new Link(stream, {
    role: "entrance",
    softwareVersion: VERSION,
    // Streams and Reverse in both entrances: this computer may open streams to the agent's exit.
    capabilities:
      Capability.Ipv6 | Capability.DnsStub | Capability.Streams | Capability.Reverse | Capability.Diagnose,
    keepaliveIntervalMs: Number(values.keepalive) * 1000,
  });
  // Set before the link is ready: the exit's first stream frames must find their handler.
  const opener = proxy ? new LinkStreamOpener(link) : null;
  link.once("close", (info) => void shutdown.stop(`link closed (${info.reason})`));
  const reverseExit = wireReverseExit(link, remoteResolvers, log);
  // In the event itself: this computer's first stream frames may follow the CONFIG in one chunk.
  link.on("config", (next) => reverseExit.configure(next));
  // What "Can the remote reach …?" asks of this side: filled in as the CONFIG and routes arrive.
  let linkConfig: LinkConfig | null = null;
  let routePlan: RoutePlan | null = null;
  const checks: AgentCheckContext = {
    entrance: proxy ? "proxy" : "tun",
    tunName: proxy ? null : values.tun,
    dns: () => linkConfig?.dns ?? null,
    forwarders: () =>
      [linkConfig?.subnetV4, linkConfig?.subnetV6].flatMap((subnet) =>
        subnet ? [linkAddresses(subnet).tun.split("/")[0]!] : [],
      ),
    routePlan: () => routePlan,
  };
  serveRemoteChecks(link, checks, {
    ...systemAgentProbes(checks.tunName),
    ...(opener ? { connectThroughTunnel: streamConnect(opener) } : {}),
  });

  const config = await new Promise<LinkConfig>((resolve, reject) => {
    link.once("config", resolve);
    link.ready.catch(reject);
  });
  linkConfig = config;
  link.on("config", (next) => (linkConfig = next));
  if (opener !== null) {
    await startProxyEntrance({
      journal,
      opener,
      packets: linkPort(link),
      config,
      envPath: proxyEnvPath(),
      log,
    });
    link.sendStats({ "agent.routes": 1 });
    link.sendStats({ "agent.ready": 1 });
    reportStreamStats(
      link,
      () => streamStatsExtras({ ...opener.counters }, opener.openCount),
      STREAM_STATS_INTERVAL_MS,
    );
    log("ready: proxy entrance");
    return;
  }
  const addresses = [config.subnetV4, config.subnetV6].flatMap((subnet) =>
    subnet ? [linkAddresses(subnet)] : [],
  );
  const tun = await openJournaledTun(journal, {
    name: values.tun,
    mtu: config.mtu,
    addresses: addresses.map((a) => a.tun),
    openTuns,
  });
  pumpTunAndLink(tunPort(tun), linkPort(link));

  const routes = new RouteSync({ journal, dev: tun.name, sshPeer: values["ssh-peer"] || sshPeerAddress() });
  const applyRoutes = async (prefixes: string[]): Promise<void> => {
    const result = await routes.apply(prefixes);
    routePlan = result;
    for (const skipped of result.skip) log(`not routing ${skipped.prefix}: ${skipped.message}`);
    for (const failure of result.failed)
      log(`route ${failure.action} ${failure.prefix} failed: ${failure.error.message}`);
    log(`routing ${result.route.length} prefix(es) into ${tun.name}`);
    // What goes into the TUN leads home: the agent's exit must not send this computer's flows there.
    reverseExit.exit?.setTunRoutes(result.route);
  };
  await applyRoutes(config.routes);
  link.sendStats({ "agent.routes": 1 });

  const dns = new DnsSetup({
    journal,
    detect: () =>
      detectDnsConfigurator({
        link: tun.name,
        // Split DNS over a plain resolv.conf: the forwarder listens on the TUN's own address.
        splitListen: addresses[0] && { address: addresses[0].tun.split("/")[0]! },
        log,
      }),
    log,
  });
  await dns.start(withoutSkippedZones(config.dns, routePlan));
  // How the resolver is set up, and split's forwarder's counts: looked at every few seconds, sent
  // only when they changed (nothing while the remote looks nothing up).
  const dnsStatus = reportChangedStats(
    link,
    () => remoteDnsExtras(dns.setup, dns.splitCounts),
    DNS_STATUS_INTERVAL_MS,
  );
  // The mode in force after each CONFIG, switched or not (`backhaul dns` waits for it), with its setup.
  let dnsChanges = 0;
  const reportDns = (): void =>
    dnsStatus.poll({
      "agent.dnsMode": AGENT_DNS_MODES.indexOf(dns.current),
      "agent.dnsChanges": dnsChanges++,
    });
  reportDns();
  // Routes follow later CONFIGs live (a VPN came up on the user's computer) without dropping flows;
  // DNS follows with them: split's domains (the reverse zones of the routes), and a new mode.
  link.on("config", (next) => {
    // The routes first: which prefixes were skipped decides which reverse zones stay split.
    const routed = applyRoutes(next.routes).catch((error: unknown) => log(String(error)));
    void dns.configure(routed.then(() => withoutSkippedZones(next.dns, routePlan))).then(reportDns);
  });
  link.sendStats({ "agent.ready": 1 });
  log(`ready: ${tun.name} mtu ${config.mtu}`);
}

/**
 * The SSH client's address, so a prefix containing it is never routed into the tunnel. sudo's
 * env_reset drops SSH_CONNECTION, so the broker passes it as --ssh-peer from the user's shell.
 */
function sshPeerAddress(): string | undefined {
  const connection = process.env.SSH_CONNECTION?.split(" ");
  return connection?.[0];
}

tuneHeapForStreaming();
main().catch((error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
