import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_SUBNET_V4, DEFAULT_SUBNET_V6, localLinkSubnets } from "../broker/link-subnets.js";
import { MAX_CAPTURE_BYTES } from "../../shared/helper-protocol.js";
import { PacketRecorder } from "../broker/packet-recorder.js";
import { DEFAULT_LINK_MTU, SessionFactory, watchRoutes } from "../broker/session-factory.js";
import {
  ENTRANCE_MODES,
  isEntranceMode,
  SudoPassword,
  SudoRefusedError,
  type EntranceKind,
} from "../broker/deploy/index.js";
import { resolveTarget, targetName } from "../broker/targets/index.js";
import { FlowTotals } from "./flow-totals.js";
import { formatBytes, humanReporter, jsonReporter } from "./output.js";
import { savedExecTargets } from "./data-dir.js";
import { ask } from "./prompt.js";
import { askSecret, readSecretFromStdin } from "./secret-input.js";
import { UsageError } from "./usage-error.js";
import { parseSocksOption } from "./socks-option.js";
import { newCredentials } from "../../helper/engines/proxy/credentials.js";
import { isDomainName } from "../../shared/link-protocol.js";
import { diagnose } from "../app/diagnostics.js";
import { startSessionControl } from "../broker/session-control.js";
import { describeAllowLocalChange } from "./allow-local-command.js";
import { CidrError } from "../../helper/engines/routes/errors.js";
import {
  checkRemoteRoutes,
  parseRemoteRoutes,
  RemoteRouteError,
} from "../../helper/engines/routes/remote-routes.js";
import { normaliseDnsDomain } from "../../shared/dns-domain.js";

const DEFAULT_CAPTURE_MB = 100;
/** The agent writes it (src/helper/agent/proxy-env.ts) and removes it at disconnect. */
const PROXY_ENV_HINT = "source ~/.config/backhaul/proxy.env";

/** How long `backhaul dns` waits for the agent to report the new mode in force. */
const DNS_SWITCH_WAIT_MS = 15_000;

export const CONNECT_USAGE = `backhaul connect <target> [options]

  <target>                 ssh://[user@]host[:port], a Host alias from ~/.ssh/config, user@host,
                           codespace:NAME (GitHub Codespaces, through the gh command line),
                           exec:COMMAND (a command whose input and output reach a shell on the
                           remote, e.g. 'exec:kubectl exec -i devpod -c dev -- sh'; run without a
                           shell, quoted as in sh), or the name of a command saved in the window
  -i FILE                  identity file to use (repeatable; default: ssh-agent, then ~/.ssh/id_*)
  --known-hosts FILE       known_hosts file to check the host key against (default ~/.ssh/known_hosts)
  --accept-new-host-key    trust a host key seen for the first time (a changed key is always refused)
  --route CIDR             also advertise this prefix (repeatable)
  --exclude CIDR           never advertise this prefix (repeatable)
  --remote-route CIDR      this computer reaches CIDR through the remote (repeatable): a TUN device
                           here routes it to the remote, whose own sockets carry it (the local
                           helper is elevated for it, through the OS's own password dialog)
  --remote-dns-domain DOMAIN  names under DOMAIN resolve on this computer with the remote's
                           resolver (repeatable); nothing else about this computer's DNS changes
  --dns split|all|off      split (default): names under this computer's search and VPN domains
                           (and --dns-domain), and reverse lookups of the advertised prefixes,
                           resolve through this computer, the rest with the remote's own resolver
                           (with no such domain at all, as all); all: every name; off: none.
                           While connected, \`backhaul dns MODE\` changes it
  --dns-domain DOMAIN      also resolve names under DOMAIN through this computer (repeatable;
                           --dns split)
  --allow-local            let the remote reach this computer itself (loopback, its own addresses).
                           While connected, \`backhaul allow-local on|off\` switches it (off also
                           ends the flows open to this computer)
  --socks [ADDR:]PORT      a SOCKS5 and HTTP proxy on this computer (loopback unless ADDR is given)
                           whose connections leave from the remote; names resolve with the
                           remote's resolver. Reaches every destination the remote reaches but
                           the remote itself; your own user needs no credentials (on Linux),
                           others need the user:password printed when it starts
  --allow-remote-local     let this computer reach the remote itself (its loopback and addresses;
                           set at connect: reconnect to change it)
  --remote-node PATH       Node.js on the remote, when it is not \`node\` on the PATH
  --entrance auto|tun|proxy  how the remote's traffic enters the link: a TUN device (root, by sudo
                           if need be), or a SOCKS5/HTTP proxy on its loopback (no root); auto
                           (default) takes the TUN when it can work and says why when it cannot
  --sudo-password-stdin    read the remote's sudo password from standard input (else, when sudo
                           asks for one, it is asked on the terminal)
  --no-elevate             never run the local helper elevated (it would be only where this
                           computer forbids unprivileged ICMP; pings then use the ping command)
  --json                   one JSON object per line: state, flow, dns, log and error events
  --verbose                every line of the local helper and the agent, not only warnings
  --link-subnet CIDR       IPv4 subnet of the link (default ${DEFAULT_SUBNET_V4}; with --remote-route,
                           one no other session on this computer holds)
  --link-subnet6 CIDR|none IPv6 subnet of the link (default ${DEFAULT_SUBNET_V6}; likewise)
  --mtu N                  link MTU (default ${DEFAULT_LINK_MTU})
  --capture FILE           record the tunnel's packets, both directions, into FILE as pcapng
                           (Wireshark, tshark and tcpdump read it); the file is only yours (0600)
  --capture-limit MB       stop recording when FILE reaches this size (default ${DEFAULT_CAPTURE_MB})
  --data-dir DIR           where the window's settings (saved commands) are, as for \`backhaul ui\`
`;

/** The status line: rewritten in place this often on a terminal, printed this often otherwise. */
const STATUS_TTY_MS = 1_000;
const STATUS_LINE_MS = 5_000;

/**
 * `--remote-route` prefixes, normalised; a usage error for one that does not parse or would take
 * the link subnet (the local helper checks this computer's default route again as it routes).
 */
function checkedRemoteRoutes(texts: readonly string[], subnets: ReadonlyArray<string | null>): string[] {
  try {
    const linkSubnets = subnets.flatMap((subnet) => (subnet === null ? [] : [subnet]));
    return checkRemoteRoutes(texts, { defaultGateways: [], linkSubnets });
  } catch (error) {
    if (error instanceof RemoteRouteError) throw new UsageError(error.message);
    if (error instanceof CidrError) throw new UsageError(`--link-subnet: ${error.message}`);
    throw error;
  }
}

/** A usage error for a --remote-route that does not parse, before anything is leased. */
function parseRemoteRoutesOrUsage(texts: readonly string[]): void {
  try {
    parseRemoteRoutes(texts);
  } catch (error) {
    if (error instanceof CidrError) throw new UsageError(`--remote-route: ${error.message}`);
    throw error;
  }
}

export async function connect(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      identity: { type: "string", short: "i", multiple: true, default: [] },
      "known-hosts": { type: "string" },
      "accept-new-host-key": { type: "boolean", default: false },
      route: { type: "string", multiple: true, default: [] },
      exclude: { type: "string", multiple: true, default: [] },
      "remote-route": { type: "string", multiple: true, default: [] },
      "remote-dns-domain": { type: "string", multiple: true, default: [] },
      dns: { type: "string", default: "split" },
      "dns-domain": { type: "string", multiple: true, default: [] },
      "allow-local": { type: "boolean", default: false },
      socks: { type: "string" },
      "allow-remote-local": { type: "boolean", default: false },
      "remote-node": { type: "string" },
      entrance: { type: "string", default: "auto" },
      "sudo-password-stdin": { type: "boolean", default: false },
      "no-elevate": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      // No defaults here: a session with this computer's TUN leases its own when none is given.
      "link-subnet": { type: "string" },
      "link-subnet6": { type: "string" },
      mtu: { type: "string", default: String(DEFAULT_LINK_MTU) },
      capture: { type: "string" },
      "capture-limit": { type: "string", default: String(DEFAULT_CAPTURE_MB) },
      "data-dir": { type: "string" },
    },
  });
  const [spec, ...extra] = positionals;
  if (!spec) throw new UsageError("connect needs a target, e.g. `backhaul connect ssh://me@devbox`");
  if (extra.length > 0) throw new UsageError(`connect takes one target, not ${positionals.length}`);
  const dns = values.dns;
  if (dns !== "split" && dns !== "all" && dns !== "off")
    throw new UsageError(`--dns takes split, all or off, not "${dns}"`);
  const dnsDomains = values["dns-domain"];
  for (const domain of dnsDomains)
    if (!isDomainName(domain))
      throw new UsageError(`--dns-domain takes a domain like corp.example, not "${domain}"`);
  if (dnsDomains.length > 0 && dns !== "split")
    throw new UsageError(`--dns-domain is for --dns split; with --dns ${dns} it would do nothing`);
  const entrance = values.entrance;
  if (!isEntranceMode(entrance))
    throw new UsageError(`--entrance takes ${ENTRANCE_MODES.join(", ")}, not "${entrance}"`);
  const mtu = Number(values.mtu);
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535)
    throw new UsageError(`--mtu takes 1280 to 65535, not "${values.mtu}"`);
  const socks = values.socks === undefined ? undefined : parseSocksOption(values.socks);
  const remoteDnsDomains = values["remote-dns-domain"].map((text) => {
    const domain = normaliseDnsDomain(text);
    if (domain === null) throw new UsageError(`--remote-dns-domain takes a domain name, not "${text}"`);
    return domain;
  });
  const tunWanted = values["remote-route"].length > 0 || remoteDnsDomains.length > 0;
  // This computer's TUN shares the computer with other sessions' TUNs: each takes subnets of its
  // own (link-subnets.ts) unless the user chose them.
  const chosenV4 = values["link-subnet"];
  const chosenV6 = values["link-subnet6"];
  parseRemoteRoutesOrUsage(values["remote-route"]);
  const lease =
    tunWanted && chosenV4 === undefined && chosenV6 === undefined ? await localLinkSubnets(spec) : undefined;
  const subnetV4 = chosenV4 ?? lease?.subnets.v4 ?? DEFAULT_SUBNET_V4;
  const subnetV6Text = chosenV6 ?? (lease ? (lease.subnets.v6 ?? "none") : DEFAULT_SUBNET_V6);
  const subnetV6 = subnetV6Text === "none" ? null : subnetV6Text;
  const remoteRoutes = await Promise.resolve()
    .then(() => checkedRemoteRoutes(values["remote-route"], [subnetV4, subnetV6]))
    .catch(async (error: unknown) => {
      await lease?.release();
      throw error;
    });
  const captureMb = Number(values["capture-limit"]);
  if (!(captureMb >= 1 && captureMb <= MAX_CAPTURE_BYTES / 1_000_000))
    throw new UsageError(`--capture-limit takes a size in MB from 1, not "${values["capture-limit"]}"`);

  const tty = process.stdout.isTTY === true;
  // Resolved before the reporter is made: an exec: target's first step is its command, not SSH.
  const warnings: string[] = [];
  const target = await resolveTarget(spec, {
    onWarning: (warning) => warnings.push(warning),
    savedExec: await savedExecTargets(values["data-dir"], (line) => warnings.push(line)),
  }).catch((error: unknown) => {
    for (const warning of warnings) process.stderr.write(`note: ${warning}\n`);
    throw error;
  });
  const reporter = values.json
    ? jsonReporter()
    : humanReporter({ verbose: values.verbose, tty, viaCommand: target.kind === "exec" });
  for (const warning of warnings) reporter.log(warning);
  const { watch, routes: prefixes } = await watchRoutes({
    include: values.route,
    // This computer's own TUN (--remote-route) must never be advertised back to the remote: its
    // routes and link subnet lead to the remote already.
    exclude: tunWanted
      ? [...values.exclude, ...remoteRoutes, subnetV4, ...(subnetV6 === null ? [] : [subnetV6])]
      : values.exclude,
    log: (line) => reporter.log(line),
  });
  reporter.advertising(prefixes, false);

  const sessions = new SessionFactory({
    distDir: dirname(fileURLToPath(import.meta.url)),
    elevation: values["no-elevate"] ? "never" : "auto",
    // Once the session has ended, the helper's goodbye lines are noise after "disconnected".
    log: (line) => void (sessionOver || reporter.log(line)),
  });
  let sessionOver = false;
  let startedEntrance: EntranceKind | null = null;
  // Held for the session's reconnects, wiped when it ends.
  const sudoPassword = new SudoPassword(({ user, host }) => {
    if (values["sudo-password-stdin"]) return readSecretFromStdin();
    if (!process.stdin.isTTY)
      throw new SudoRefusedError(
        `sudo on ${user}@${host} needs a password, and there is no terminal to ask it on: pass --sudo-password-stdin.`,
        "no-password",
      );
    return askSecret(`sudo password for ${user}@${host}: `);
  });
  const socksSettings = socks === undefined ? undefined : { ...socks, ...newCredentials() };
  const session = sessions.create({
    openAgent: sessions.agentOpener(target, {
      identityFiles: values.identity,
      knownHostsFile: values["known-hosts"] ?? null,
      acceptNewHostKey: values["accept-new-host-key"],
      confirmNewHostKey: async (info) =>
        /^y(es)?$/i.test(
          (await ask(
            `The host key of ${info.host} is new: ${info.keyType} ${info.fingerprintSha256}. Trust it? [y/N] `,
          )) ?? "",
        ),
      passphrase: (file) => ask(`Passphrase for ${file}: `, true),
      remoteNode: values["remote-node"] ?? null,
      entrance,
      onEntrance: (kind) => (startedEntrance = kind),
      sudoPassword,
      log: (line) => reporter.log(line),
    }),
    exit: {
      mtu,
      subnetV4,
      subnetV6,
      routes: prefixes,
      allowLocal: values["allow-local"],
      dns,
      dnsDomains,
      ...(socksSettings === undefined ? {} : { socks: socksSettings }),
      ...(tunWanted ? { remoteRoutes, remoteDnsDomains } : {}),
      ...(socksSettings === undefined && !tunWanted
        ? {}
        : {
            reverse: {
              // --socks: every destination the remote reaches (an empty list) but the remote
              // itself, as `ssh -D` gives them; --remote-route alone: exactly what this computer
              // routes to it.
              routes: socksSettings === undefined ? remoteRoutes : [],
              allowLocal: values["allow-remote-local"],
              dns: socksSettings !== undefined || remoteDnsDomains.length > 0,
            },
          }),
    },
  });
  let advertised = prefixes;
  // `backhaul diagnose` finds this session by its control socket and asks it from both ends.
  const control = await startSessionControl(spec, {
    state: () => session.state.state,
    remoteDns: () => session.remoteDns,
    // The remote's resolver follows within seconds, as the window's Settings → DNS.
    dnsMode: async (mode) => {
      reporter.log(`DNS mode ${mode} asked through the session's control socket`);
      const change = await session.setDnsMode(mode);
      if (change.kind === "at-connect") return `DNS mode ${mode}; it applies when the session connects`;
      const runs =
        change.running === mode ? "" : ` (as ${change.running}: this computer names no domain to split on)`;
      if (change.kind === "unchanged") return `DNS mode ${mode}${runs}: in force already`;
      const heard = await session.agentDnsMode(change.running, DNS_SWITCH_WAIT_MS);
      if (heard === change.running) return `DNS mode ${mode}${runs}: the remote's resolver has switched`;
      throw new Error(
        `the remote's resolver did not switch to ${change.running} within ${DNS_SWITCH_WAIT_MS / 1000} s` +
          ` (it is ${heard ?? "not reported"}); the session's log says why`,
      );
    },
    // Access to this computer, as the window's Settings switch it: the exit here follows at once.
    allowLocal: async (allow) => {
      reporter.log(
        `access to this computer ${allow ? "on" : "off"} asked through the session's control socket`,
      );
      const change = await session.setAllowLocal(allow);
      const reverse = socksSettings !== undefined || tunWanted ? values["allow-remote-local"] : undefined;
      const message = describeAllowLocalChange(allow, change, reverse);
      reporter.log(message);
      return { message, endedFlows: change.kind === "applied" ? change.endedFlows : 0 };
    },
    diagnose: (request) => {
      const exit = session.exit;
      const connected = session.state.state === "connected";
      return diagnose(request, {
        advertised,
        excludes: values.exclude,
        allowLocal: session.allowsLocal,
        connected,
        remote: connected && exit ? (question) => exit.checkRemote(question) : undefined,
        remoteDns: session.remoteDns,
      });
    },
  }).catch((error: unknown) => {
    reporter.log(`\`backhaul diagnose\` cannot reach this session: ${(error as Error).message}`);
    return undefined;
  });
  if (control)
    reporter.log(`\`backhaul diagnose HOST[:PORT]\` checks from both ends (session ${control.name})`);
  watch.on("change", (next) => {
    advertised = next;
    reporter.advertising(next, true);
    session.updateRoutes(next);
  });
  const recorder =
    values.capture === undefined
      ? undefined
      : new PacketRecorder(session, {
          path: resolve(values.capture),
          maxBytes: Math.floor(captureMb * 1_000_000),
          session: spec,
          onStop: (reason) =>
            reporter.log(
              recorder && recorder.bytes > 0
                ? `${reason}; the packets are in ${recorder.path}`
                : `${reason}; nothing was recorded`,
            ),
        });
  if (recorder) {
    reporter.log(`recording packets to ${recorder.path} (up to ${captureMb} MB)`);
    recorder.start();
  }
  session.on("state", (state) => {
    reporter.state(state);
    if (state.state === "connected" && socksSettings !== undefined)
      reporter.log(describeSocks(socksSettings));
    if (state.state === "connected" && startedEntrance === "proxy")
      reporter.log(`proxy entrance: on the remote, run \`${PROXY_ENV_HINT}\` to use it (curl, git, pip...)`);
  });
  session.on("log", (line) => reporter.log(line));
  const totals = new FlowTotals();
  // Rows say which session they are of: several `connect` runs may feed one script.
  const name = targetName(target);
  session.on("exit", (exit) => {
    totals.newTable();
    exit.nat.table.subscribe((delta) => {
      totals.apply(delta);
      delta.upserts.forEach((row) => reporter.flow({ ...row, session: name }));
    });
    exit.dns?.table.subscribe((delta) =>
      delta.upserts.forEach((row) => reporter.dns({ ...row, session: name })),
    );
  });
  const status = setInterval(
    () => {
      const exit = session.exit;
      if (!exit || session.state.state !== "connected") return;
      const rtt = session.linkRttMs;
      reporter.status(
        `  ${exit.nat.table.openCount} open flows, ${formatBytes(totals.up)} up, ${formatBytes(totals.down)} down` +
          (rtt === null ? "" : `, link RTT ${rtt.toFixed(1)} ms`),
      );
    },
    tty ? STATUS_TTY_MS : STATUS_LINE_MS,
  );
  status.unref();

  let interrupted = false;
  const stop = (): void => {
    if (interrupted) return;
    interrupted = true;
    // The same signal may have reached the route monitor and the helper (a terminal's Ctrl+C goes
    // to the whole process group): neither their end nor a re-advertisement is news any more.
    watch.stop();
    sessions.holdRestarts();
    void session.disconnect();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await session.run();
  control?.close();
  await recorder?.stop(); // the file is complete before we say the session is over
  sudoPassword.wipe();
  sessionOver = true;
  await sessions.stop();
  await lease?.release();
  watch.stop();
  clearInterval(status);
  reporter.close();
  const final = session.state;
  if (final.state === "error") {
    reporter.error(final.message);
    return 1;
  }
  return 0;
}

/** What the user is told about `--socks`: where, and the credentials only they are shown. */
function describeSocks(socks: { host?: string; port: number; username: string; password: string }): string {
  const host =
    socks.host === undefined ? "127.0.0.1" : socks.host.includes(":") ? `[${socks.host}]` : socks.host;
  const url = `${host}:${socks.port}`;
  const who =
    process.platform === "linux"
      ? `your user: socks5h://${url} or http://${url}; other users of this computer need`
      : "clients need";
  return `socks: SOCKS5 and HTTP proxy on ${url}, leaving from the remote; ${who} socks5h://${socks.username}:${socks.password}@${url}`;
}
