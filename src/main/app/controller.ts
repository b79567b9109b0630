/**
 * What the window talks to (AppBackend), for both shells: the Electron main process and
 * `backhaul ui`. One session at a time, built like the CLI's (broker/session-factory.ts), with its state,
 * tables and throughput streamed as events; targets, settings and recents persisted in the data
 * directory; diagnostics run on this computer.
 */
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  IDLE_CAPTURE,
  IDLE_SESSION,
  type AppEvent,
  type CaptureView,
  type RequestChannel,
  type RequestOf,
  type ResponseOf,
  type SessionView,
  type Settings,
  type TablesSnapshot,
} from "../../shared/api.js";
import { VERSION } from "../../shared/version.js";
import { DEFAULT_SUBNET_V4, DEFAULT_SUBNET_V6 } from "../broker/link-subnets.js";
import type { SudoPassword } from "../broker/deploy/index.js";
import type { ExitHandle } from "../broker/exit-handle.js";
import { PacketRecorder } from "../broker/packet-recorder.js";
import { RouteWatch } from "../broker/route-watch.js";
import { DEFAULT_LINK_MTU, watchRoutes } from "../broker/session-factory.js";
import type { Session, SessionOptions } from "../broker/session.js";
import { listTargets, resolveTarget } from "../broker/targets/index.js";
import type { AppBackend } from "./backend.js";
import { diagnose } from "./diagnostics.js";
import { LinkSampler } from "./link-sampler.js";
import { PromptBroker } from "./prompts.js";
import { Recents } from "./recents.js";
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

/** One connect, from the user's click to the end of its teardown. */
interface Run {
  readonly targetId: string;
  readonly sampler: LinkSampler;
  session: Session | undefined;
  watch: RouteWatch | undefined;
  sandbox: Sandbox | undefined;
  /** sudo's password, once asked: held for the run's reconnects, wiped when it ends. */
  sudoPassword?: SudoPassword;
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
  private readonly prompts: PromptBroker;
  private readonly sessions: AppSessions;
  private readonly subnetV4: string;
  private readonly subnetV6: string | null;
  private view: SessionView = IDLE_SESSION;
  private run: Run | undefined;
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
    this.prompts = new PromptBroker((prompt) => this.emit({ type: "prompt", prompt }));
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
    await this.serial(() => this.stopRun());
    this.prompts.cancelAll();
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
    "session:connect": ({ targetId }) => this.serial(() => this.connect(targetId)),
    "session:disconnect": () =>
      this.serial(async () => {
        await this.stopRun();
        return this.view;
      }),
    "tables:snapshot": () => Promise.resolve(this.tables()),
    "settings:get": () => Promise.resolve(this.settings.current),
    "settings:set": (settings) => this.setSettings(settings),
    "diagnose:run": async (request) => {
      const settings = this.settings.current;
      const active = this.run && !this.run.done && this.run.watch ? this.run : undefined;
      const advertised = active
        ? this.view.advertised
        : await new RouteWatch({ include: settings.routes, exclude: settings.excludes })
            .current()
            .catch(() => []);
      return diagnose(request, {
        advertised,
        excludes: settings.excludes,
        allowLocal: settings.allowLocal,
        connected: this.view.phase === "connected",
      });
    },
    "prompt:answer": (answer) => {
      this.prompts.answer(answer);
      return Promise.resolve(null);
    },
    "capture:get": () => Promise.resolve(this.captureView),
    "capture:start": () => this.startCapture(),
    "capture:stop": () => this.stopCapture(),
  };

  private async startCapture(): Promise<CaptureView> {
    const run = this.run;
    if (!run?.session || run.done || this.view.phase !== "connected")
      throw new Error("Connect first: packets are recorded from a connected session");
    if (this.recorder?.recorder.recording) return this.captureView;
    const dir = this.options.downloadsDir ?? process.env.XDG_DOWNLOAD_DIR ?? join(homedir(), "Downloads");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, captureFileName(run.targetId, new Date()));
    const recorder: PacketRecorder = new PacketRecorder(run.session, {
      path,
      maxBytes: WINDOW_CAPTURE_BYTES,
      session: this.view.target?.label ?? run.targetId,
      replace: false,
      onStop: (reason) => {
        this.log(`${reason}: ${path}`);
        this.setCapture({ recording: false, path, bytes: recorder.bytes, message: reason });
      },
    });
    this.recorder = { recorder, run };
    recorder.start();
    this.log(`recording packets to ${path}`);
    this.setCapture({ recording: true, path, bytes: 0, message: null });
    return this.captureView;
  }

  private async stopCapture(): Promise<CaptureView> {
    const current = this.recorder;
    if (!current) return this.captureView;
    const message = await current.recorder.stop();
    this.setCapture({
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
    await this.stopRun();
    if (this.closed) throw new Error("Backhaul is closing");
    const run: Run = {
      targetId,
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
    const label = this.labels.get(targetId) ?? (targetId === SANDBOX_TARGET_ID ? SANDBOX_LABEL : targetId);
    this.setView({
      ...IDLE_SESSION,
      phase: "connecting",
      step: "start",
      attempt: 1,
      target: { id: targetId, label },
    });
    this.emit({ type: "tables-reset" });
    run.sampleTimer = setInterval(() => this.sample(run), SAMPLE_INTERVAL_MS);
    run.sampleTimer.unref();
    this.recents.touch(targetId).catch((error: unknown) => this.log(`recents: ${(error as Error).message}`));
    run.finished = this.execute(run);
    return this.view;
  }

  private async execute(run: Run): Promise<void> {
    try {
      const settings = this.settings.current;
      const openAgent = await this.agentOpener(run);
      if (run.stopping) return;
      const routes = await this.watchRoutes(run, settings);
      if (run.stopping) return;
      const session = this.sessions.create({
        openAgent,
        exit: {
          mtu: DEFAULT_LINK_MTU,
          subnetV4: this.subnetV4,
          subnetV6: this.subnetV6,
          routes,
          allowLocal: settings.allowLocal,
          dns: settings.dns,
          dnsDomains: settings.dnsDomains,
        },
      });
      run.session = session;
      session.on("state", (state) => {
        if (this.run === run) this.setView(viewOf(state, this.view));
      });
      session.on("log", (line) => this.log(line));
      session.on("exit", (exit) => this.attachExit(run, exit));
      await session.run();
    } catch (error) {
      if (!run.stopping && this.run === run) {
        this.setView({
          ...this.view,
          phase: "error",
          step: null,
          connectedSince: null,
          retryAt: null,
          message: (error as Error).message,
        });
      }
    } finally {
      run.sudoPassword?.wipe();
      run.watch?.stop();
      if (this.run === run) this.prompts.cancelAll();
      if (run.sandbox)
        await run.sandbox
          .destroy()
          .catch((error: unknown) => this.log(`sandbox: cleanup failed: ${String(error)}`));
      clearInterval(run.sampleTimer);
      // The file is complete before the session is said to be over.
      if (this.recorder?.run === run) await this.stopCapture();
      run.done = true;
      if (this.run === run && (this.view.phase === "connecting" || this.view.phase === "reconnecting")) {
        // Stopped before the session existed (while the target was being looked up).
        this.setView({ ...this.view, phase: "disconnected", step: null, retryAt: null, message: null });
      }
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
        if (this.run === run) this.setView({ ...this.view, entrance: "tun" });
        return transport;
      };
    }
    const target = await resolveTarget(run.targetId, {
      onWarning: log,
      savedExec: this.settings.current.execTargets,
    });
    const label = target.kind === "codespace" ? target.displayName : target.label;
    if (this.run === run && this.view.target)
      this.setView({ ...this.view, target: { id: run.targetId, label } });
    run.sudoPassword = this.sessions.sudoPassword(this.prompts);
    return this.sessions.remoteAgentOpener(target, {
      prompts: this.prompts,
      sudoPassword: run.sudoPassword,
      entrance: this.settings.current.entrance,
      onEntrance: (entrance) => {
        if (this.run === run) this.setView({ ...this.view, entrance });
      },
      log,
    });
  }

  /** (Re)starts the route watch with the settings' additions and exclusions; resolves with the prefixes. */
  private async watchRoutes(run: Run, settings: Settings): Promise<string[]> {
    const { watch, routes } = await watchRoutes({
      include: settings.routes,
      exclude: settings.excludes,
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
    if (this.run === run) this.setView({ ...this.view, advertised: routes });
  }

  private async setSettings(settings: Settings): Promise<Settings> {
    const before = this.settings.current;
    const saved = await this.settings.set(settings);
    const run = this.run;
    const routesChanged =
      before.routes.join() !== saved.routes.join() || before.excludes.join() !== saved.excludes.join();
    // Routes apply at once; DNS and "allow access to this computer" at the next connect.
    if (routesChanged && run && !run.done && run.session) await this.watchRoutes(run, saved);
    return saved;
  }

  private attachExit(run: Run, exit: ExitHandle): void {
    run.unsubscribeTables.forEach((unsubscribe) => unsubscribe());
    run.exit = exit;
    run.sampler.resetRows();
    if (this.run !== run) return;
    this.emit({ type: "tables-reset" });
    run.unsubscribeTables = [
      exit.nat.table.subscribe((delta) => {
        run.sampler.observe(delta);
        if (this.run === run) this.emit({ type: "flows", delta });
      }),
    ];
    const dns = exit.dns;
    if (dns) {
      run.unsubscribeTables.push(
        dns.table.subscribe((delta) => {
          if (this.run === run) this.emit({ type: "dns", delta });
        }),
      );
    }
  }

  private sample(run: Run): void {
    if (this.run !== run || run.done) return;
    const recording = this.recorder?.run === run ? this.recorder.recorder : undefined;
    if (recording?.recording) this.setCapture({ ...this.captureView, bytes: recording.bytes });
    const sample = run.sampler.sample(
      Date.now(),
      run.session?.linkRttMs ?? null,
      run.session?.exit?.nat.table.openCount ?? 0,
    );
    this.emit({ type: "sample", sample });
  }

  private tables(): TablesSnapshot {
    const exit = this.run?.exit;
    return { flows: exit?.nat.table.snapshot() ?? [], dns: exit?.dns?.table.snapshot() ?? [] };
  }

  /** Ends the current run, if any: the remote is restored and the sandbox removed when this resolves. */
  private async stopRun(): Promise<void> {
    const run = this.run;
    if (!run || run.done) return;
    run.stopping = true;
    this.prompts.cancelAll();
    await run.session?.disconnect();
    await run.finished;
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

  private setView(view: SessionView): void {
    this.view = view;
    this.emit({ type: "session", session: view });
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

function describePrefixes(prefixes: readonly string[]): string {
  return prefixes.length > 0 ? prefixes.join(", ") : "no prefixes (add some under Settings → Extra routes)";
}

/** backhaul-TARGET-20261207-061502.pcapng: says what and when, safe on every file system. */
function captureFileName(targetId: string, at: Date): string {
  const target = targetId.replace(/[^\w.-]+/g, "_").slice(0, 40);
  const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `backhaul-${target}-${stamp}.pcapng`;
}
