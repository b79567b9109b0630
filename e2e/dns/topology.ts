/**
 * The DNS test topology (DESIGN.md "Test topology", DNS part):
 *
 *   S: veth at LAN.dns — dnsmasq, authoritative for corp.test (zone.ts)
 *   L: veth at LAN.local — resolv.conf points at S; the engine process
 * (addresses: e2e/netns/address-plan.ts)
 *
 * L's /etc/hosts is its own too (ip netns exec bind-mounts every file in /etc/netns/NAME, and
 * the lab removes that directory), holding one name the zone does not: the getaddrinfo fallback.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CORP_NET, LAN } from "../netns/address-plan.js";
import { ChildRpc } from "../netns/child-rpc.js";
import { NetnsLab, type ManagedProcess, type NetworkNamespace } from "../netns/index.js";
import type { EngineCommands, EngineReady, EngineReport } from "./engine-protocol.js";
import { addLanVeth } from "../netns/lan-veth.js";
import { dnsmasqArgs, dnsmasqConfig, HOSTS_ONLY, ZONE } from "./zone.js";

export type { EngineReport };

export interface DnsTopology {
  server: NetworkNamespace;
  local: NetworkNamespace;
  /** The engine's UDP and TCP port on 127.0.0.1 in L. */
  enginePort: number;
  /** The resolvers the engine read from L's resolv.conf. */
  engineResolvers: unknown;
  report(): Promise<EngineReport>;
  cleanup(): Promise<void>;
}

/** Polls until dnsmasq answers from L, or throws with its output. */
async function waitForDnsmasq(
  local: NetworkNamespace,
  dnsmasq: ManagedProcess,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (dnsmasq.hasExited) break;
    const probe = await local.run(
      "dig",
      ["+short", "+time=1", "+tries=1", `@${LAN.dns.v4}`, `host.${ZONE}`, "A"],
      {
        timeoutMs: 5_000,
      },
    );
    if (probe.stdout.trim() === CORP_NET.host.v4) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`dnsmasq in S did not start answering: ${log()}`);
}

export function buildDnsTopology(): Promise<DnsTopology> {
  return NetnsLab.build(async (lab) => {
    const configDir = lab.tempDir("backhaul-dns-");
    const server = await lab.createNamespace("dnss");
    const local = await lab.createNamespace("dnsl", {
      resolvConf: `# backhaul DNS test: L resolves through S\nnameserver ${LAN.dns.v4}\nnameserver ${LAN.dns.v6}\n`,
    });
    writeFileSync(
      join("/etc/netns", local.name, "hosts"),
      `127.0.0.1 localhost\n::1 localhost\n${HOSTS_ONLY.address} ${HOSTS_ONLY.name}\n`,
    );
    await addLanVeth(lab, local, server, { server: [LAN.dns] });

    const config = join(configDir, "dnsmasq.conf");
    writeFileSync(config, dnsmasqConfig());
    const dnsmasq = server.spawn("dnsmasq", dnsmasqArgs(config));
    let dnsmasqLog = "";
    for (const stream of [dnsmasq.child.stdout, dnsmasq.child.stderr]) {
      stream?.on("data", (chunk: Buffer) => (dnsmasqLog = (dnsmasqLog + chunk.toString()).slice(-4_000)));
    }
    await waitForDnsmasq(local, dnsmasq, () => dnsmasqLog);

    const engine = ChildRpc.start<EngineCommands, Partial<EngineReady>>(local, "e2e/dns/engine-process.ts");
    const ready = await engine.waitFor("ready", (event) =>
      event.ready === true && event.port !== undefined
        ? { port: event.port, resolvers: event.resolvers }
        : undefined,
    );
    const report = (): Promise<EngineReport> => engine.request("report", null, 20_000);
    return {
      server,
      local,
      enginePort: ready.port,
      engineResolvers: ready.resolvers,
      report,
      cleanup: () => lab.cleanup(),
    };
  });
}
