/**
 * The local helper (exit role): `backhaul-helper`. Listens on an owner-only Unix socket for the
 * link to a remote agent and runs the NAT and DNS engines on it. The broker (sessions issue #5)
 * starts it and pipes the SSH channel to it; it also runs alone for tests and diagnostics.
 */
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { Capability } from "../shared/link-protocol.js";
import { VERSION } from "../shared/version.js";
import { ExitSession } from "./exit-session.js";
import { DEFAULT_SUBNET_V4, DEFAULT_SUBNET_V6 } from "./link-subnets.js";
import { Link } from "./link/link.js";
import { createIcmpForwarder } from "./nat/icmp/index.js";
import { advertisableRoutes, listRoutes } from "./routes/index.js";

const USAGE = `backhaul-helper ${VERSION}: the local side of Backhaul (NAT and DNS engines)

Usage: backhaul-helper --listen PATH [options]
  --listen PATH        Unix socket to accept links on (created owner-only)
  --mtu N              link MTU (default 65520)
  --subnet4 CIDR       IPv4 link subnet (default ${DEFAULT_SUBNET_V4})
  --subnet6 CIDR|none  IPv6 link subnet (default ${DEFAULT_SUBNET_V6})
  --route CIDR         advertise this prefix (repeatable; default: this computer's LAN and VPN routes)
  --exclude CIDR       never advertise this prefix (repeatable)
  --allow-local        let the remote reach this computer itself (loopback, own addresses)
  --dns all|off        resolve the remote's names through this computer (default all)
`;

function log(line: string): void {
  process.stderr.write(`backhaul helper: ${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: "string" },
      mtu: { type: "string", default: "65520" },
      subnet4: { type: "string", default: DEFAULT_SUBNET_V4 },
      subnet6: { type: "string", default: DEFAULT_SUBNET_V6 },
      route: { type: "string", multiple: true, default: [] },
      exclude: { type: "string", multiple: true, default: [] },
      "allow-local": { type: "boolean", default: false },
      dns: { type: "string", default: "all" },
      version: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return void process.stdout.write(USAGE);
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  if (!values.listen) throw new Error("--listen PATH is required (see --help)");
  if (values.dns !== "all" && values.dns !== "off")
    throw new Error(`--dns takes all or off, not "${values.dns}"`);
  const mtu = Number(values.mtu);
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535)
    throw new Error(`--mtu takes 1280 to 65535, not "${values.mtu}"`);

  const routes =
    values.route.length > 0
      ? advertisableRoutes([], { include: values.route, exclude: values.exclude }).map((r) => r.prefix)
      : advertisableRoutes(await listRoutes(), { exclude: values.exclude }).map((r) => r.prefix);
  log(`advertising ${routes.length > 0 ? routes.join(", ") : "nothing (no LAN or VPN routes found)"}`);

  const path = values.listen;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  rmSync(path, { force: true });
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const link = new Link(socket, {
      role: "exit",
      softwareVersion: VERSION,
      capabilities: Capability.Ipv6 | Capability.DnsStub | Capability.IcmpEcho,
    });
    link.once("close", (info) => log(`link closed (${info.initiator}): ${info.reason}`));
    void ExitSession.start({
      link,
      mtu,
      subnetV4: values.subnet4,
      subnetV6: values.subnet6 === "none" ? null : values.subnet6,
      routes,
      allowLocal: values["allow-local"],
      dns: values.dns === "all" ? "all" : "off",
      icmp: createIcmpForwarder,
    }).catch((error: unknown) => {
      log(`session failed: ${String(error)}`);
      link.close("helper error");
    });
  });
  server.listen(path, () => {
    chmodSync(path, 0o600);
    log(`listening on ${path}`);
  });
  const stop = (): void => {
    server.close();
    rmSync(path, { force: true });
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
