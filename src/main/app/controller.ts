/**
 * What the window talks to (AppBackend), for both shells: the Electron main process and
 * `backhaul ui`. Several sessions at once, one per target, each built like the CLI's
 * (broker/session-factory.ts) and sharing the app's one local helper (it runs an exit per link);
 * their states, tables and throughput streamed as events, rows stamped with their session;
 * targets, settings and recents persisted in the data directory; diagnostics run on this computer.
 */
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  IDLE_CAPTURE,
  IDLE_SESSION,
  type AppEvent,
  type CaptureView,
  type DiagnoseRequest,
  type DiagnoseResult,
  type SessionRef,
  type RequestChannel,
  type RequestOf,
  type ResponseOf,
  type SessionView,
  type Settings,
  type TablesSnapshot,
} from "../../shared/api.js";
import type { DnsRow } from "../../shared/dns-row.js";
import type { FlowRow, TableDelta } from "../../shared/flow-row.js";
import { VERSION } from "../../shared/version.js";
import { DEFAULT_SUBNET_V4, DEFAULT_SUBNET_V6 } from "../broker/link-subnets.js";
import type { SudoPassword } from "../broker/deploy/index.js";
import type { ExitHandle } from "../broker/exit-handle.js";
import { PacketRecorder } from "../broker/packet-recorder.js";
import { RouteWatch } from "../broker/route-watch.js";
import { startSessionControl, type SessionControl } from "../broker/session-control.js";
import { DEFAULT_LINK_MTU, watchRoutes } from "../broker/session-factory.js";
import type { Session, SessionOptions } from "../broker/session.js";
import { listTargets, resolveTarget, targetName } from "../broker/targets/index.js";
import type { AppBackend } from "./backend.js";
import { diagnose } from "./diagnostics.js";
import { LinkSampler } from "./link-sampler.js";
import { PromptBroker } from "./prompts.js";
import { Recents } from "./recents.js";
import { reverseSession, type ReverseSession } from "./reverse-settings.js";
import { Sandbox, SANDBOX_LABEL, SANDBOX_TARGET_ID, sandboxUnavailable } from "./sandbox-target.js";
import { AppSessionFactory, type AppSessions } from "./session-factory.js";
import { viewOf } from "./session-view.js";
import { SettingsStore } from "./settings-store.js";
import { targetList } from "./target-list.js";

export interface AppControllerOptions {
  /** Settings, recents and the sandbox agent's journal live here. */
  dataDir: string;
  shell: "electron" | "browser";
  /** Where cli.mjs, agent/ and helper-local.mjs are. */
  distDir: string;
  linkSubnetV4?: string;
  /** null: no IPv6 on the link. */
  linkSubnetV6?: string | null;
  /** Where "Record packets" saves: default $XDG_DOWNLOAD_DIR, else ~/Downloads. */
  downloadsDir?: string;
  /** What builds the sessions; tests put a fake agent behind them. Default: AppSessionFactory. */
  sessions?: AppSessions;
}

/** A window's capture stops here; the command line's --capture-limit sets its own. */
const WINDOW_CAPTURE_BYTES = 200 * 1_000_000;

const SAMPLE_INTERVAL_MS = 1_000;

/**
 * Row ids are per exit session; the window's tables hold every session's rows, so each run's ids
 * are moved into a range of their own: run N's row K is N * 2^32 + K (exact below 2^53).
 */
const ROW_ID_RANGE = 2 ** 32;

/** One connect, from the user's click to the end of its teardown. */
interface Run {
  readonly targetId: string;
  /** Numbers this run's rows apart from the other runs' (ROW_ID_RANGE). */
  readonly serial: number;
  /** The session's name in rows and lists: the target's name once it is resolved. */
  label: string;
  view: SessionView;
  /** This run's questions: ending it cancels them, and only them. */
  readonly prompts: PromptBroker;
  readonly sampler: LinkSampler;
  session: Session | undefined;
  watch: RouteWatch | undefined;
  sandbox: Sandbox | undefined;
  /** The socket `backhaul diagnose` asks this run's session through. */
  control?: SessionControl;
  /** sudo's password, once asked: held for the run's reconnects, wiped when it ends. */
  sudoPassword?: SudoPassword;
  /** The reverse direction's link subnets and what it never advertises (reverse-settings.ts). */
  reverse?: ReverseSession;
  /** The latest exit session: the tables the window shows, kept after the run ends. */
  exit: ExitHandle | undefined;
  unsubscribeTables: Array<() => void>;
  sampleTimer: NodeJS.Timeout | undefined;
  stopping: boolean;
  done: boolean;
  finished: Promise<void>;
}

type Handlers = { [C in RequestChannel]: (payload: RequestOf<C>) => Promise<ResponseOf<C>> };

export class AppController implements AppBackend {
  private readonly listeners = new Set<(event: AppEvent) => void>();
  private readonly sessions: AppSessions;
  private readonly subnetV4: string;
  private readonly subnetV6: string | null;
  /** The latest run's view (`session:get`), kept after that run is forgotten. */
  private view: SessionView = IDLE_SESSION;
  /** The latest run started. */
  private run: Run | undefined;
  /** Every session held, by target id, oldest first: running ones and ended ones in error. */
  private readonly runs = new Map<string, Run>();
  private runSerial = 0;
  /** connect, disconnect and close run one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Labels from the last listing, so a connect shows the name the user picked at once. */
  private readonly labels = new Map<string, string>();
  private sandboxCheck: Promise<string | null> | undefined;
  private closed = false;
  private recorder: { recorder: PacketRecorder; run: Run } | undefined;
  private captureView: CaptureView = IDLE_CAPTURE;

  private constructor(
    private readonly options: AppControllerOptions,
    private readonly settings: SettingsStore,
    private readonly recents: Recents,
  ) {
    this.sessions =
      options.sessions ?? new AppSessionFactory({ distDir: options.distDir, log: (line) => this.log(line) });
    this.subnetV4 = options.linkSubnetV4 ?? DEFAULT_SUBNET_V4;
    this.subnetV6 = options.linkSubnetV6 === undefined ? DEFAULT_SUBNET_V6 : options.linkSubnetV6;
  }

  static async create(options: AppControllerOptions): Promise<AppController> {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    const warnings: string[] = [];
    const warn = (line: string): void => void warnings.push(line);
    const [settings, recents] = await Promise.all([
      SettingsStore.open(options.dataDir, warn),
      Recents.open(options.dataDir, warn),
    ]);
    const controller = new AppController(options, settings, recents);
    // Told once the shell had the chance to subscribe (right after this resolves).
    setImmediate(() => warnings.forEach((line) => controller.log(line)));
    return controller;
  }

  async handle<C extends RequestChannel>(channel: C, payload: RequestOf<C>): Promise<ResponseOf<C>> {
    const handler = this.handlers[channel] as (payload: RequestOf<C>) => Promise<ResponseOf<C>>;
    return await handler(payload);
  }

  subscribe(listener: (event: AppEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.serial(() => this.stopAll());
    await this.sessions.stop();
  }

  private readonly handlers: Handlers = {
    "app:info": () =>
      Promise.resolve({ version: VERSION, platform: process.platform, shell: this.options.shell }),
    "targets:list": async () => {
      const warnings: string[] = [];
      const [listing, sandboxReason] = await Promise.all([
        listTargets({
          onWarning: (warning) => warnings.push(warning),
          savedExec: this.settings.current.execTargets,
        }),
        this.sandboxUnavailable(),
      ]);
      const list = targetList(listing, {
        sandbox: sandboxReason === null,
        recents: this.recents.ids(),
        lastUsedAt: (id) => this.recents.lastUsedAt(id),
      });
      for (const target of list.targets) this.labels.set(target.id, target.label);
      return { ...list, warnings: [...list.warnings, ...warnings] };
    },
    "session:get": () => Promise.resolve(this.view),
    "sessions:list": () => Promise.resolve(this.sessionViews()),
    "session:connect": ({ targetId }) => this.serial(() => this.connect(targetId)),
    "session:disconnect": (ref) => this.serial(() => this.disconnect(ref)),
    "tables:snapshot": () => Promise.resolve(this.tables()),
    "settings:get": () => Promise.resolve(this.settings.current),
    "settings:set": (settings) => this.setSettings(settings),
    "diagnose:run": (request) => this.diagnose(request, undefined),
    "prompt:answer": (answer) => {
      const owner = [...this.runs.values()].find((run) => run.prompts.has(answer.id));
      if (!owner) throw new Error("that question is no longer waiting for an answer");
      owner.prompts.answer(answer);
      return Promise.resolve(null);
    },
    "capture:get": () => Promise.resolve(this.captureView),
    "capture:start": (ref) => this.startCapture(ref),
    "capture:stop": () => this.stopCapture(),
  };

  private async startCapture(ref: SessionRef | null): Promise<CaptureView> {
    const run = ref === null ? this.run : this.runs.get(ref.targetId);
    if (!run?.session || run.done || run.view.phase !== "connected")
      throw new Error("Connect first: packets are recorded from a connected session");
    if (this.recorder?.recorder.recording) return this.captureView;
    const dir = this.options.downloadsDir ?? process.env.XDG_DOWNLOAD_DIR ?? join(homedir(), "Downloads");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, captureFileName(run.targetId, new Date()));
    const recorder: PacketRecorder = new PacketRecorder(run.session, {
      path,
      maxBytes: WINDOW_CAPTURE_BYTES,
      session: run.label,
      replace: false,
      onStop: (reason) => {
        this.log(`${reason}: ${path}`);
        this.setCapture({
          recording: false,
          path,
          bytes: recorder.bytes,
          message: reason,
          session: run.label,
        });
      },
    });
    this.recorder = { recorder, run };
    recorder.start();
    this.log(`recording packets to ${path}`);
    this.setCapture({ recording: true, path, bytes: 0, message: null, session: run.label });
    return this.captureView;
  }

  private async stopCapture(): Promise<CaptureView> {
    const current = this.recorder;
    if (!current) return this.captureView;
    const message = await current.recorder.stop();
    this.setCapture({
      session: current.run.label,
      recording: false,
      path: current.recorder.path,
      bytes: current.recorder.bytes,
      message,
    });
    return this.captureView;
  }

  private setCapture(capture: CaptureView): void {
    this.captureView = capture;
    this.emit({ type: "capture", capture });
  }

  private async connect(targetId: string): Promise<SessionView> {
    if (this.closed) throw new Error("Backhaul is closing");
    const held = this.runs.get(targetId);
    if (held && !held.done) {
      // One session per target: it is running already, and becomes the latest.
      this.focus(held);
      return held.view;
    }
    if (held) this.forget(held);
    const label = this.labels.get(targetId) ?? (targetId === SANDBOX_TARGET_ID ? SANDBOX_LABEL : targetId);
    const view: SessionView = {
      ...IDLE_SESSION,
      phase: "connecting",
      step: "start",
      attempt: 1,
      target: { id: targetId, label },
    };
    const run: Run = {
      targetId,
      serial: ++this.runSerial,
      label,
      view,
      prompts: new PromptBroker((prompt) => this.emit({ type: "prompt", prompt })),
      sampler: new LinkSampler(),
      session: undefined,
      watch: undefined,
      sandbox: undefined,
      exit: undefined,
      unsubscribeTables: [],
      sampleTimer: undefined,
      stopping: false,
      done: false,
      finished: Promise.resolve(),
    };
    this.run = run;
    this.runs.set(targetId, run);
    this.setView(run, view);
    run.sampleTimer = setInterval(() => this.sample(run), SAMPLE_INTERVAL_MS);
    run.sampleTimer.unref();
    this.recents.touch(targetId).catch((error: unknown) => this.log(`recents: ${(error as Error).message}`));
    run.finished = this.execute(run);
    return run.view;
  }

  /**
   * "Can the remote reach …?" from this computer and from `run`'s remote: the session whose control
   * socket was asked, or for the window the latest connected one (else any connected one).
   */
  private async diagnose(request: DiagnoseRequest, run: Run | undefined): Promise<DiagnoseResult> {
    const settings = this.settings.current;
    const runs = [...this.runs.values()];
    // Every session advertises the same prefixes (the same settings): any running one says them.
    const active = runs.find((r) => !r.done && r.watch);
    const advertised = active
      ? active.view.advertised
      : await new RouteWatch({ include: settings.routes, exclude: settings.excludes })
          .current()
          .catch(() => []);
    const latest = this.run?.view.phase === "connected" ? this.run : undefined;
    const asked = run ?? latest ?? runs.find((r) => r.view.phase === "connected");
    const connected = asked?.view.phase === "connected";
    const exit = connected ? asked?.session?.exit : undefined;
    return diagnose(request, {
      advertised,
      excludes: settings.excludes,
      allowLocal: settings.allowLocal,
      connected,
      remote: exit ? (question) => exit.checkRemote(question) : undefined,
      remoteDns: connected ? (asked?.session?.remoteDns ?? null) : null,
    });
  }

  /** Ends the target's session, or every one (null); a session that ended in error is forgotten. */
  private async disconnect(ref: SessionRef | null): Promise<SessionView> {
    if (ref === null) {
      await this.stopAll();
      return this.view;
    }
    const run = this.runs.get(ref.targetId);
    if (!run) return this.view;
    if (run.done) this.forget(run);
    else await this.stopRun(run);
    return run.view;
  }

  private async execute(run: Run): Promise<void> {
    try {
      const settings = this.settings.current;
      const openAgent = await this.agentOpener(run);
      if (run.stopping) return;
      const reverse = (run.reverse = await reverseSession(settings, {
        label: run.label,
        subnets: { v4: this.subnetV4, v6: this.subnetV6 },
        subnetsChosen: this.options.linkSubnetV4 !== undefined || this.options.linkSubnetV6 !== undefined,
      }));
      if (run.stopping) return;
      const routes = await this.watchRoutes(run, settings);
      if (run.stopping) return;
      const session = this.sessions.create({
        openAgent,
        exit: {
          mtu: DEFAULT_LINK_MTU,
          routes,
          allowLocal: settings.allowLocal,
          dns: settings.dns,
          dnsDomains: settings.dnsDomains,
          ...reverse.exit,
        },
      });
      run.session = session;
      run.control = await startSessionControl(run.label, {
        state: () => run.view.phase,
        remoteDns: () => session.remoteDns,
        diagnose: (request) => this.diagnose(request, run),
      }).catch((error: unknown) => {
        this.log(`\`backhaul diagnose\` cannot reach this session: ${(error as Error).message}`);
        return undefined;
      });
      session.on("state", (state) => {
        this.setView(run, viewOf(state, run.view));
        if (state.state === "connected" && reverse.notice !== null) this.log(reverse.notice);
      });
      session.on("log", (line) => this.log(line));
      session.on("remoteDns", (remoteDns) => this.setView(run, { ...run.view, remoteDns }));
      session.on("exit", (exit) => this.attachExit(run, exit));
      await session.run();
    } catch (error) {
      if (!run.stopping) {
        this.setView(run, {
          ...run.view,
          phase: "error",
          step: null,
          connectedSince: null,
          retryAt: null,
          message: (error as Error).message,
        });
      }
    } finally {
      run.control?.close();
      run.sudoPassword?.wipe();
      await run.reverse?.lease?.release();
      run.watch?.stop();
      run.prompts.cancelAll();
      if (run.sandbox)
        await run.sandbox
          .destroy()
          .catch((error: unknown) => this.log(`sandbox: cleanup failed: ${String(error)}`));
      clearInterval(run.sampleTimer);
      // The file is complete before the session is said to be over.
      if (this.recorder?.run === run) await this.stopCapture();
      run.done = true;
      if (run.view.phase === "connecting" || run.view.phase === "reconnecting") {
        // Stopped before the session existed (while the target was being looked up).
        this.setView(run, { ...run.view, phase: "disconnected", step: null, retryAt: null, message: null });
      }
      // The user ended it: it leaves the list (and its rows the tables). One in error stays to read.
      if (run.view.phase !== "error") this.forget(run);
    }
  }

  /** How this run reaches its agent: the sandbox namespace, or SSH to the resolved target. */
  private async agentOpener(run: Run): Promise<SessionOptions["openAgent"]> {
    const log = (line: string): void => this.log(line);
    if (run.targetId === SANDBOX_TARGET_ID) {
      const reason = await this.sandboxUnavailable();
      if (reason !== null) throw new Error(reason);
      const sandbox = (run.sandbox = new Sandbox({
        distDir: this.options.distDir,
        dataDir: this.options.dataDir,
        log,
      }));
      return async (step) => {
        const transport = await sandbox.openAgent(step);
        // The sandbox's agent runs as root in its own namespace: always the TUN entrance.
        this.setView(run, { ...run.view, entrance: "tun" });
        return transport;
      };
    }
    const target = await resolveTarget(run.targetId, {
      onWarning: log,
      savedExec: this.settings.current.execTargets,
    });
    run.label = targetName(target);
    this.setView(run, { ...run.view, target: { id: run.targetId, label: run.label } });
    run.sudoPassword = this.sessions.sudoPassword(run.prompts);
    return this.sessions.remoteAgentOpener(target, {
      prompts: run.prompts,
      sudoPassword: run.sudoPassword,
      entrance: this.settings.current.entrance,
      onEntrance: (entrance) => this.setView(run, { ...run.view, entrance }),
      log,
    });
  }

  /** (Re)starts the route watch with the settings' additions and exclusions; resolves with the prefixes. */
  private async watchRoutes(run: Run, settings: Settings): Promise<string[]> {
    const { watch, routes } = await watchRoutes({
      include: settings.routes,
      exclude: [...settings.excludes, ...(run.reverse?.excludes ?? [])],
      log: (line) => this.log(line),
    });
    if (run.stopping || run.done) {
      watch.stop();
      return routes;
    }
    run.watch?.stop();
    run.watch = watch;
    watch.on("change", (next) => {
      this.log(`this computer's routes changed: advertising ${describePrefixes(next)}`);
      this.advertise(run, next);
    });
    this.advertise(run, routes);
    this.log(`advertising ${describePrefixes(routes)}`);
    return routes;
  }

  private advertise(run: Run, routes: string[]): void {
    run.session?.updateRoutes(routes);
    this.setView(run, { ...run.view, advertised: routes });
  }

  private async setSettings(settings: Settings): Promise<Settings> {
    const before = this.settings.current;
    const saved = await this.settings.set(settings);
    const routesChanged =
      before.routes.join() !== saved.routes.join() || before.excludes.join() !== saved.excludes.join();
    // Routes, split DNS's domains, the DNS mode and "allow access to this computer" apply at once,
    // to every session.
    if (routesChanged)
      for (const run of this.runs.values()) if (!run.done && run.session) await this.watchRoutes(run, saved);
    if (before.dnsDomains.join() !== saved.dnsDomains.join())
      for (const run of this.runs.values()) if (!run.done) run.session?.setUserDnsDomains(saved.dnsDomains);
    if (before.dns !== saved.dns)
      for (const run of this.runs.values()) if (!run.done) void run.session?.setDnsMode(saved.dns);
    if (before.allowLocal !== saved.allowLocal)
      for (const run of this.runs.values()) if (!run.done) void run.session?.setAllowLocal(saved.allowLocal);
    return saved;
  }

  private attachExit(run: Run, exit: ExitHandle): void {
    run.unsubscribeTables.forEach((unsubscribe) => unsubscribe());
    const hadRows = run.exit !== undefined;
    run.exit = exit;
    run.sampler.resetRows();
    // A reconnect's new exit starts empty: the window fetches the tables again without the old rows.
    if (hadRows) this.emit({ type: "tables-reset" });
    run.unsubscribeTables = [
      exit.nat.table.subscribe((delta) => {
        run.sampler.observe(delta);
        if (this.runs.get(run.targetId) === run) this.emit({ type: "flows", delta: stamped(run, delta) });
      }),
    ];
    const dns = exit.dns;
    if (dns) {
      run.unsubscribeTables.push(
        dns.table.subscribe((delta) => {
          if (this.runs.get(run.targetId) === run) this.emit({ type: "dns", delta: stamped(run, delta) });
        }),
      );
    }
  }

  private sample(run: Run): void {
    if (run.done) return;
    const recording = this.recorder?.run === run ? this.recorder.recorder : undefined;
    if (recording?.recording) this.setCapture({ ...this.captureView, bytes: recording.bytes });
    const sample = run.sampler.sample(
      Date.now(),
      run.session?.linkRttMs ?? null,
      run.session?.exit?.nat.table.openCount ?? 0,
    );
    this.emit({ type: "sample", sample: { ...sample, session: run.targetId } });
  }

  private tables(): TablesSnapshot {
    const flows: FlowRow[] = [];
    const dns: DnsRow[] = [];
    for (const run of this.runs.values()) {
      const exit = run.exit;
      if (!exit) continue;
      flows.push(...stampRows(run, exit.nat.table.snapshot()));
      dns.push(...stampRows(run, exit.dns?.table.snapshot() ?? []));
    }
    return { flows, dns };
  }

  /** Ends a run: the remote is restored and the sandbox removed when this resolves. */
  private async stopRun(run: Run): Promise<void> {
    if (run.done) return;
    run.stopping = true;
    run.prompts.cancelAll();
    await run.session?.disconnect();
    await run.finished;
  }

  /** Ends every session at once (Quit, or a disconnect of all), and forgets those in error. */
  private async stopAll(): Promise<void> {
    const runs = [...this.runs.values()];
    await Promise.all(runs.map((run) => this.stopRun(run)));
    for (const run of runs) this.forget(run);
  }

  /** An ended run leaves the list, and its rows the tables. */
  private forget(run: Run): void {
    if (this.runs.get(run.targetId) !== run) return;
    this.runs.delete(run.targetId);
    run.unsubscribeTables.forEach((unsubscribe) => unsubscribe());
    run.unsubscribeTables = [];
    this.emitSessions();
    if (run.exit) this.emit({ type: "tables-reset" });
    // The latest session is gone: the one started before it, still held, is the latest now.
    const previous = [...this.runs.values()].at(-1);
    if (this.run === run && previous) this.focus(previous);
  }

  private focus(run: Run): void {
    if (this.run === run) return;
    this.run = run;
    this.view = run.view;
    this.emit({ type: "session", session: run.view });
  }

  private sessionViews(): SessionView[] {
    return [...this.runs.values()].map((run) => run.view);
  }

  private emitSessions(): void {
    this.emit({ type: "sessions", sessions: this.sessionViews() });
  }

  private sandboxUnavailable(): Promise<string | null> {
    this.sandboxCheck ??= sandboxUnavailable(this.options.distDir);
    return this.sandboxCheck;
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private setView(run: Run, view: SessionView): void {
    run.view = view;
    if (this.run === run) {
      this.view = view;
      this.emit({ type: "session", session: view });
    }
    if (this.runs.get(run.targetId) === run) this.emitSessions();
  }

  private log(line: string): void {
    this.emit({ type: "log", line });
  }

  private emit(event: AppEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure (a closed window) must not stop the others or the session.
      }
    }
  }
}

/** A delta of `run`'s exit as the window's tables take it: ids in the run's range, the session named. */
function stamped<Row extends { id: number; session?: string }>(
  run: Run,
  delta: TableDelta<Row>,
): TableDelta<Row> {
  return {
    upserts: stampRows(run, delta.upserts),
    removals: delta.removals.map((id) => run.serial * ROW_ID_RANGE + id),
  };
}

function stampRows<Row extends { id: number; session?: string }>(run: Run, rows: readonly Row[]): Row[] {
  return rows.map((row) => ({ ...row, id: run.serial * ROW_ID_RANGE + row.id, session: run.label }));
}

function describePrefixes(prefixes: readonly string[]): string {
  return prefixes.length > 0 ? prefixes.join(", ") : "no prefixes (add some under Settings → Extra routes)";
}

/** backhaul-TARGET-20261207-061502.pcapng: says what and when, safe on every file system. */
function captureFileName(targetId: string, at: Date): string {
  const target = targetId.replace(/[^\w.-]+/g, "_").slice(0, 40);
  const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `backhaul-${target}-${stamp}.pcapng`;
}
