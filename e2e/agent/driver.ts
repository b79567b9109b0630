// Stands in for the remote agent inside a test namespace:
//   ip netns exec R node --import tsx e2e/agent/driver.ts '<DriverConfig JSON>'
// Recovers what a dead predecessor left, then opens a TUN, gives it addresses, routes the
// advertised prefixes and points /etc/resolv.conf at a stub, all through the journal, and stays
// until SIGTERM/SIGINT/SIGHUP or until stdin (standing in for the link) closes. Events and the one
// command go through e2e/netns/child-rpc.ts (protocol.ts).
import {
  describeUndoReport,
  detectDnsConfigurator,
  Journal,
  openJournaledTun,
  RouteSync,
  systemUndo,
  undoOnShutdown,
} from "../../src/helper/agent/index.js";
import type { TunDevice } from "../../src/helper/system/tun/index.js";
import { emit, serve } from "../netns/child-rpc.js";
import type { DriverCommands, DriverConfig, DriverEvent } from "./protocol.js";
import { assertNamespaceResolvConf } from "./resolv-conf-guard.js";

const send = (event: DriverEvent): void => emit(event);

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const config = JSON.parse(process.argv[2] ?? "{}") as DriverConfig;
const guard = (): Promise<void> => assertNamespaceResolvConf(config.netns);

// Before anything: this process must see the namespace's resolv.conf, never the machine's.
try {
  await guard();
} catch (error) {
  send({ event: "refused", message: message(error) });
  process.exit(3);
}

const openTuns = new Map<string, TunDevice>();
const journal = new Journal({
  path: config.journalPath,
  undo: systemUndo({ openTuns, beforeResolvConfWrite: guard }),
});

try {
  const { previousOwner, report } = await journal.recoverFromPreviousRun();
  send({
    event: "recovered",
    previousOwner: previousOwner?.pid ?? null,
    lines: describeUndoReport(report),
    failed: report.failed.length,
  });
} catch (error) {
  send({ event: "refused", message: message(error) });
  process.exit(2);
}

const shutdown = undoOnShutdown(journal, {
  onUndone: (report, reason) =>
    send({ event: "undone", reason, lines: describeUndoReport(report), failed: report.failed.length }),
});
const continued = new Promise<void>((resolve) => serve<DriverCommands>({ continue: () => resolve() }));
shutdown.watchStream(process.stdin, "the link (stdin)");

try {
  if (config.pauseAfterRecovery) await continued;
  const tun = await openJournaledTun(journal, { ...config.tun, openTuns });
  const routes = await new RouteSync({ journal, dev: tun.name }).apply(config.advertised);
  const dns = await detectDnsConfigurator({ link: tun.name, beforeWrite: guard });
  await dns.configurator.apply({ mode: "all", servers: config.dnsServers }, journal);
  send({
    event: "ready",
    routed: routes.route.map((route) => route.prefix),
    skipped: routes.skip,
    failed: routes.failed.map((failure) => `${failure.prefix}: ${failure.error.message}`),
    dns: { kind: dns.configurator.kind, reason: dns.reason, warnings: dns.warnings },
  });
} catch (error) {
  send({ event: "failed", message: message(error) });
  await shutdown.stop("setting up failed");
}
