/**
 * One Backhaul session: reach the remote, start its agent, run the exit side (NAT and DNS) on
 * the link, and keep it that way until the user disconnects — through dropped links, with
 * exponential backoff and jitter. Free of Electron: the CLI and the desktop app share it.
 */
import { EventEmitter } from "node:events";
import type { Duplex, Readable } from "node:stream";
import { forwardLines } from "../../helper/local/line-socket.js";
import type { ExitSessionOptions } from "../../helper/engines/exit-session.js";
import type { ConnectStep } from "../../shared/api.js";
import { inProcessExit, type ExitHandle, type ExitProvider } from "./exit-handle.js";
import { localDnsDomains, sessionDns, type DnsMode } from "./local-dns-domains.js";
import { AGENT_DNS_MODES } from "../../shared/helper-protocol.js";
import { remoteDnsStatus, sameRemoteDns, type RemoteDnsStatus } from "../../shared/remote-dns-status.js";

/**
 * What setDnsMode did: sent to the agent, which switches to `running` within seconds; nothing, as
 * `running` is in force already (a split runs as all for want of a domain); or nothing yet, as the
 * session is not connected (the next connect takes it).
 */
export type DnsModeChange = { kind: "sent" | "unchanged"; running: DnsMode } | { kind: "at-connect" };

/**
 * What a change of "allow access to this computer" did: nothing (it was so already), kept for the
 * next connect (none is up), applied (`endedFlows`: the open flows to this computer that a switch
 * off ended), or applied to new flows with no word from the exit about the open ones (`why`).
 */
export type AllowLocalChange =
  | { kind: "unchanged" | "at-connect" }
  | { kind: "applied"; endedFlows: number }
  | { kind: "unconfirmed"; why: string };

export type SessionState =
  | { state: "connecting"; step: ConnectStep; attempt: number }
  | { state: "connected"; since: number }
  | { state: "reconnecting"; attempt: number; retryInMs: number; reason: string }
  | { state: "disconnected"; reason: string }
  | { state: "error"; message: string };

/** A started agent: its link stream (the SSH exec channel, or a test's pipe) and its logs. */
export interface AgentTransport {
  stream: Duplex;
  stderr: Readable;
  /** Ends the transport (the SSH connection); the agent sees its link end and cleans up. */
  close(): void;
  /** Resolves when the agent has exited (the exec channel closed): its changes are undone. */
  exited: Promise<void>;
}

const AGENT_EXIT_TIMEOUT_MS = 15_000;
/**
 * While connected with split DNS, this computer's domains are read again at each route change (a
 * VPN that comes up after the connect brings its routes and its domains, and the remote's split
 * must follow without a reconnect), once more DNS_DOMAINS_SETTLE_MS later (a VPN client often
 * sets its resolver just after its routes), and every DNS_DOMAINS_POLL_MS as a safety net. Slow,
 * because a read is a process on macOS (scutil) and a PowerShell run on Windows.
 */
const DNS_DOMAINS_POLL_MS = 5 * 60_000;
const DNS_DOMAINS_SETTLE_MS = 3_000;

/** An error the user must fix: retrying would only repeat it (a changed host key, a wrong key). */
export class FatalSessionError extends Error {
  override readonly name = "FatalSessionError";
}

export interface SessionOptions {
  /**
   * Reaches the remote and starts the agent, reporting steps as it goes. `exitReady` settles once
   * the exit side can take the link (the local helper started): the agent starts only after it,
   * so that its handshake timeout never includes the helper's start or a password dialog.
   */
  openAgent(step: (step: ConnectStep) => void, exitReady?: Promise<void>): Promise<AgentTransport>;
  exit: Omit<ExitSessionOptions, "link">;
  /** Where the exit side runs: the supervised local helper (helperExit), or in this process (default). */
  exitProvider?: ExitProvider;
  /** Link keepalive: a dead link is noticed within interval + ping timeout. */
  keepaliveIntervalMs?: number;
  pingTimeoutMs?: number;
  /** Reconnect backoff: first delay and cap, in ms. */
  backoff?: { initialMs: number; maxMs: number };
  /** How long the agent has to set up routes and DNS after the handshake. */
  readyTimeoutMs?: number;
  /** How long a disconnect waits for the agent to restore the remote before closing SSH. */
  agentExitTimeoutMs?: number;
  /**
   * This computer's split-DNS domains (default: localDnsDomains): read at each connect, and while
   * connected at each route change (and dnsDomainsSettleMs after it) and every dnsDomainsPollMs.
   */
  localDnsDomains?: () => Promise<string[]>;
  dnsDomainsPollMs?: number;
  /** The second read after a route change. */
  dnsDomainsSettleMs?: number;
}

interface SessionEvents {
  state: [SessionState];
  /** A line the agent wrote to stderr, or the session's own note. */
  log: [line: string];
  /** A new exit session (after each (re)connect): subscribe to its tables. */
  exit: [ExitHandle];
  /** The remote's resolver as its agent last reported it changed (null: none on this link yet). */
  remoteDns: [RemoteDnsStatus | null];
}

const DEFAULT_BACKOFF = { initialMs: 1_000, maxMs: 30_000 };

export class Session extends EventEmitter<SessionEvents> {
  private current: SessionState = { state: "disconnected", reason: "not started" };
  private stopping = false;
  private transport: AgentTransport | undefined;
  private exitHandle: ExitHandle | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeRetry: (() => void) | undefined;
  private attempt = 0;
  private everConnected = false;
  private disconnecting: Promise<void> | undefined;
  private routes: string[];
  private dnsNote: string | null = null;
  /** Split DNS's domains as the exit has them; undefined when the connect did not start split. */
  private splitDomains: string[] | undefined;
  private domainsTimer: NodeJS.Timeout | undefined;
  private domainsSettleTimer: NodeJS.Timeout | undefined;
  /** A read of the domains in progress, and whether another was asked for meanwhile. */
  private domainsReading: Promise<void> | undefined;
  private domainsAgain = false;
  /** The last read failed (said once, not every poll). */
  private domainsReadFailed = false;
  /** The user's own split domains (--dns-domain, Settings); they may change while connected. */
  private userDnsDomains: string[];
  /** The DNS mode the user chose (--dns, Settings → DNS); it may change while connected. */
  private dnsMode: DnsMode;
  /** What the exit runs now: the chosen mode, or "all" for a split with no domain at all. */
  private runningDnsMode: DnsMode | undefined;
  /** "Allow access to this computer" (Settings): it may change while connected. */
  private allowLocal: boolean;
  /** What the running exit confirmed it applies; a switch it did not confirm may be asked again. */
  private exitAllowLocal: boolean | undefined;
  /** Mode changes, one at a time (each reads this computer's domains). */
  private modeChanges: Promise<void> = Promise.resolve();
  /** The DNS mode the agent last reported in force on this link. */
  private agentDns: DnsMode | undefined;
  private readonly agentDnsWaiters = new Set<() => boolean>();
  /** The agent's progress on this link, merged (an in-process exit passes each report alone). */
  private agentProgress: Record<string, number> = {};
  private remoteDnsNow: RemoteDnsStatus | null = null;

  constructor(private readonly options: SessionOptions) {
    super();
    this.routes = options.exit.routes;
    this.userDnsDomains = options.exit.dnsDomains ?? [];
    this.dnsMode = options.exit.dns;
    this.allowLocal = options.exit.allowLocal;
  }

  get state(): SessionState {
    return this.current;
  }

  get exit(): ExitHandle | undefined {
    return this.exitHandle;
  }

  get linkRttMs(): number | null {
    return this.exitHandle?.rttMs ?? null;
  }

  /**
   * The remote's resolver on the current link as its agent reports it: mode, setup and split
   * mode's counts (names through this computer, through the remote's own resolver, failures).
   */
  get remoteDns(): RemoteDnsStatus | null {
    return this.remoteDnsNow;
  }

  /** Connects, and keeps reconnecting until `disconnect()` or a fatal error. */
  async run(): Promise<void> {
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF;
    while (!this.stopping) {
      this.attempt++;
      let reason: string;
      try {
        reason = await this.connectOnce();
        this.attempt = 0; // it was connected: the next failure starts the backoff over
      } catch (error) {
        // From here the user's disconnect owns the teardown (it waits for the agent).
        if (this.stopping) break;
        // A first connect that fails is reported, not retried forever: the host may not exist.
        // Once it has worked, trouble is the network's, and the session keeps trying.
        if (error instanceof FatalSessionError || !this.everConnected) {
          this.setState({ state: "error", message: error instanceof Error ? error.message : String(error) });
          this.cleanup();
          return;
        }
        reason = error instanceof Error ? error.message : String(error);
      }
      if (this.stopping) break;
      this.cleanup();
      const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, this.attempt - 1));
      const delay = Math.round(base / 2 + (Math.random() * base) / 2); // jitter: 50–100 %
      this.setState({ state: "reconnecting", attempt: this.attempt + 1, retryInMs: delay, reason });
      await new Promise<void>((resolve) => {
        this.wakeRetry = resolve;
        this.retryTimer = setTimeout(resolve, delay);
      });
      this.wakeRetry = undefined;
    }
    await this.disconnecting;
    this.setState({ state: "disconnected", reason: "disconnected by the user" });
  }

  /** Ends the session: the agent restores the remote as it closes. Resolves when it has. */
  disconnect(): Promise<void> {
    this.disconnecting ??= this.teardown();
    return this.disconnecting;
  }

  private async teardown(): Promise<void> {
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    const exit = this.exitHandle;
    const transport = this.transport;
    if (exit) {
      exit.close("the user disconnected"); // also mid-handshake: the agent then stops too
      await Promise.race([exit.closed, delay(5_000)]);
    }
    // The agent restores the remote as it exits; closing SSH before that could cut it short.
    if (transport) {
      const timeoutMs = this.options.agentExitTimeoutMs ?? AGENT_EXIT_TIMEOUT_MS;
      const exited = await Promise.race([
        transport.exited.then(() => true),
        delay(timeoutMs).then(() => false),
      ]);
      if (!exited)
        this.emit(
          "log",
          `the agent did not exit within ${timeoutMs / 1000} s of the disconnect; ` +
            "it undoes what is left when its link ends, or on its next start",
        );
    }
    this.cleanup();
  }

  /** This computer's routes changed: re-advertise without reconnecting. */
  updateRoutes(routes: string[]): void {
    this.routes = routes;
    this.exitHandle?.updateRoutes(routes);
    // A VPN's routes and its DNS domains come up together, or its resolver a moment after.
    this.refreshDnsDomains();
    if (this.splitDomains === undefined || this.exitHandle === undefined) return;
    clearTimeout(this.domainsSettleTimer);
    this.domainsSettleTimer = setTimeout(
      () => this.refreshDnsDomains(),
      this.options.dnsDomainsSettleMs ?? DNS_DOMAINS_SETTLE_MS,
    );
    this.domainsSettleTimer.unref();
  }

  /**
   * The user changed their split domains (Settings): a split session takes them at once, with this
   * computer's; any session takes them at its next connect.
   */
  setUserDnsDomains(domains: readonly string[]): void {
    this.userDnsDomains = [...domains];
    this.refreshDnsDomains();
  }

  /**
   * The user picked another DNS mode (Settings → DNS): a connected session's agent restores the
   * remote's resolver and applies it within seconds, flows kept; any session takes it at its next
   * connect. Split is read as at a connect: with no domain at all it runs as "all", so a session
   * whose split already fell back to "all" keeps that rule.
   */
  setDnsMode(mode: DnsMode): Promise<DnsModeChange> {
    this.dnsMode = mode;
    // Never rejects: a failed read of this computer's domains leaves the mode for the next connect.
    const change = this.modeChanges
      .then(() => this.applyDnsMode())
      .catch((error: unknown): DnsModeChange => {
        this.emit("log", `DNS mode: ${String(error)}; it applies at the next connect`);
        return { kind: "at-connect" };
      });
    this.modeChanges = change.then(() => undefined);
    return change;
  }

  private async applyDnsMode(): Promise<DnsModeChange> {
    const exit = this.exitHandle;
    if (exit === undefined || this.runningDnsMode === undefined) return { kind: "at-connect" };
    const dns = await sessionDns(
      this.dnsMode,
      this.userDnsDomains,
      this.options.localDnsDomains ?? localDnsDomains,
    );
    if (this.exitHandle !== exit) return { kind: "at-connect" };
    if (dns.dns === this.runningDnsMode) return { kind: "unchanged", running: dns.dns };
    this.runningDnsMode = dns.dns;
    this.splitDomains = dns.dns === "split" ? (dns.dnsDomains ?? []) : undefined;
    exit.updateDnsMode(dns.dns, dns.dnsDomains ?? []);
    this.emit("log", dns.note ?? `DNS: now ${dns.dns}; the remote's resolver follows without a reconnect`);
    this.followDnsDomains();
    return { kind: "sent", running: dns.dns };
  }

  /**
   * Resolves once the agent reports `wanted` in force (STATS agent.dnsMode, after each CONFIG),
   * else after `timeoutMs` with the mode it last reported (undefined: none on this link).
   */
  agentDnsMode(wanted: DnsMode, timeoutMs: number): Promise<DnsMode | undefined> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (this.agentDns !== wanted) return false;
        finish();
        return true;
      };
      const finish = (): void => {
        clearTimeout(timer);
        this.agentDnsWaiters.delete(check);
        resolve(this.agentDns);
      };
      const timer = setTimeout(finish, timeoutMs);
      this.agentDnsWaiters.add(check);
      check();
    });
  }

  /** "Allow access to this computer" as the session runs it now (--allow-local, then as changed). */
  get allowsLocal(): boolean {
    return this.allowLocal;
  }

  /**
   * "Allow access to this computer" changed (Settings, `backhaul allow-local`): new flows follow it
   * at once and, switched off, the flows open to this computer end; any session takes it at its
   * next connect. Never rejects.
   */
  async setAllowLocal(allow: boolean): Promise<AllowLocalChange> {
    const exit = this.exitHandle;
    if (allow === this.allowLocal && (exit === undefined || this.exitAllowLocal === allow))
      return { kind: "unchanged" };
    this.allowLocal = allow;
    if (exit === undefined) return { kind: "at-connect" };
    return this.applyAllowLocal(exit, allow);
  }

  private async applyAllowLocal(exit: ExitHandle, allow: boolean): Promise<AllowLocalChange> {
    try {
      const endedFlows = await exit.setAllowLocal(allow);
      if (this.exitHandle === exit) this.exitAllowLocal = allow;
      if (endedFlows > 0)
        this.emit(
          "log",
          `access to this computer switched off: ${endedFlows} open flow${endedFlows === 1 ? "" : "s"} to it ended`,
        );
      return { kind: "applied", endedFlows };
    } catch (error) {
      // A link that ended meanwhile took its flows with it; the next one starts with the setting.
      const linkEnded = await Promise.race([
        exit.closed.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 100)),
      ]);
      if (linkEnded || this.exitHandle !== exit) return { kind: "at-connect" };
      const why = error instanceof Error ? error.message : String(error);
      this.emit("log", `access to this computer: ${why}`);
      return { kind: "unconfirmed", why };
    }
  }

  /** Split DNS while connected: this computer's domains are read again every dnsDomainsPollMs. */
  private followDnsDomains(): void {
    clearInterval(this.domainsTimer);
    this.domainsTimer = undefined;
    if (this.splitDomains === undefined) return;
    this.domainsTimer = setInterval(
      () => this.refreshDnsDomains(),
      this.options.dnsDomainsPollMs ?? DNS_DOMAINS_POLL_MS,
    );
    this.domainsTimer.unref();
  }

  /** Reads this computer's domains again; the exit hears of a change (one read at a time). */
  private refreshDnsDomains(): void {
    if (this.splitDomains === undefined || this.exitHandle === undefined) return;
    if (this.domainsReading) {
      this.domainsAgain = true;
      return;
    }
    this.domainsReading = this.readDnsDomains().finally(() => {
      this.domainsReading = undefined;
      if (this.domainsAgain) {
        this.domainsAgain = false;
        this.refreshDnsDomains();
      }
    });
  }

  private async readDnsDomains(): Promise<void> {
    let read: Awaited<ReturnType<typeof sessionDns>>;
    try {
      read = await sessionDns("split", this.userDnsDomains, this.options.localDnsDomains ?? localDnsDomains);
    } catch (error) {
      if (!this.domainsReadFailed)
        this.emit(
          "log",
          `split DNS: reading this computer's domains failed (${String(error)}); kept the last ones`,
        );
      this.domainsReadFailed = true;
      return;
    }
    this.domainsReadFailed = false;
    // None left at all (split would have run as "all" at a connect): the remote keeps the reverse zones.
    const domains = read.dnsDomains ?? [];
    const exit = this.exitHandle;
    if (exit === undefined || this.splitDomains === undefined || domains.join() === this.splitDomains.join())
      return;
    this.splitDomains = domains;
    exit.updateDnsDomains(domains);
    this.emit(
      "log",
      domains.length > 0
        ? `split DNS: this computer's domains changed; names under ${domains.join(", ")} now go through the link`
        : "split DNS: this computer names no domain any more; only reverse lookups of the advertised prefixes go through the link",
    );
  }

  /** Resolves with why the link ended, after it was connected; rejects if it never was. */
  private async connectOnce(): Promise<string> {
    const step = (s: ConnectStep): void =>
      this.setState({ state: "connecting", step: s, attempt: this.attempt });
    step("start");
    const { icmp, dnsEngine, ...settings } = this.options.exit;
    const provider = this.options.exitProvider ?? inProcessExit({ icmp, dnsEngine });
    // The helper starts while SSH connects and the agent is deployed (about 0.1 s off a first
    // connect); the agent itself waits for it (openAgent's exitReady).
    const prepared = Promise.resolve(provider.prepare?.());
    prepared.catch(() => undefined); // awaited below, unless the transport fails first
    const transport = await this.options.openAgent(step, prepared);
    this.transport = transport;
    await prepared;
    this.throwIfStopping();
    forwardLines(transport.stderr, (line) => this.emit("log", line));
    if (!(this.current.state === "connecting" && this.current.step === "agent")) step("agent");
    // Split DNS's domains are read at each connect: a VPN may have come up since the last.
    const dns = await sessionDns(
      this.dnsMode,
      this.userDnsDomains,
      this.options.localDnsDomains ?? localDnsDomains,
    );
    if (dns.note !== null && dns.note !== this.dnsNote) this.emit("log", dns.note);
    this.dnsNote = dns.note;
    this.splitDomains = dns.dns === "split" ? (dns.dnsDomains ?? []) : undefined;
    this.runningDnsMode = dns.dns;
    const allowLocal = this.allowLocal;
    const exit = await provider.open(transport.stream, {
      ...settings,
      allowLocal,
      dns: dns.dns,
      dnsDomains: dns.dnsDomains,
      routes: this.routes,
      keepaliveIntervalMs: this.options.keepaliveIntervalMs ?? 5_000,
      pingTimeoutMs: this.options.pingTimeoutMs ?? 10_000,
    });
    this.exitHandle = exit;
    this.exitAllowLocal = allowLocal;
    // Changed while this link opened (the change found no exit to apply it to): apply it now.
    if (this.allowLocal !== allowLocal) void this.applyAllowLocal(exit, this.allowLocal);
    this.agentDns = undefined; // this link's agent reports its own
    this.agentProgress = {};
    this.setRemoteDns(null);
    if (this.stopping) {
      // The disconnect came while this link opened: its teardown has passed the link already.
      exit.close("the user disconnected");
      this.throwIfStopping();
    }
    // The agent reports its progress in STATS: routes in place, then DNS too (ready).
    const ready = new Promise<void>((resolve) => {
      exit.onProgress((extra) => {
        // The helper sends its whole progress map each time: "routes" then comes again with "ready".
        const now = this.current;
        if (extra["agent.routes"] === 1 && now.state === "connecting" && now.step !== "dns") step("dns");
        if (extra["agent.ready"] === 1) resolve();
        if (this.exitHandle !== exit) return;
        const dnsMode = extra["agent.dnsMode"];
        if (dnsMode !== undefined) {
          this.agentDns = AGENT_DNS_MODES[dnsMode];
          for (const check of [...this.agentDnsWaiters]) check();
        }
        Object.assign(this.agentProgress, extra);
        this.setRemoteDns(remoteDnsStatus(this.agentProgress));
      });
    });
    const closed = exit.closed;
    this.emit("exit", exit);
    await exit.ready;
    step("routes");
    const timeout = this.options.readyTimeoutMs ?? 30_000;
    const outcome = await Promise.race([
      ready.then(() => "ready" as const),
      closed.then((info) => info),
      new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), timeout).unref()),
    ]);
    if (outcome === "timeout")
      throw new Error(`the agent did not finish setting up within ${timeout / 1000} s`);
    if (outcome !== "ready") throw new Error(`the link closed while the agent set up: ${outcome.reason}`);
    this.throwIfStopping();
    this.everConnected = true;
    this.setState({ state: "connected", since: Date.now() });
    this.followDnsDomains();
    const info = await closed;
    return `link lost: ${info.reason}`;
  }

  /** A disconnect that came while connecting: stop here, the teardown closes what was opened. */
  private throwIfStopping(): void {
    if (this.stopping) throw new Error("disconnected while connecting");
  }

  private cleanup(): void {
    clearInterval(this.domainsTimer);
    this.domainsTimer = undefined;
    clearTimeout(this.domainsSettleTimer);
    this.domainsSettleTimer = undefined;
    this.exitHandle?.close("session ending");
    this.exitHandle = undefined;
    // The agent restores the remote's resolver as its link ends: nothing of it holds any more.
    this.setRemoteDns(null);
    this.transport?.close();
    this.transport = undefined;
  }

  private setRemoteDns(status: RemoteDnsStatus | null): void {
    if (sameRemoteDns(status, this.remoteDnsNow)) return;
    this.remoteDnsNow = status;
    this.emit("remoteDns", status);
  }

  private setState(state: SessionState): void {
    this.current = state;
    this.emit("state", state);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
