/**
 * Starts the local helper, keeps it running, and tells sessions how to reach it. The helper gets
 * a fresh control directory (mode 0700) holding the token file (0600): the token never appears on
 * a command line, where other users could read it from the process list. The helper runs
 * elevated (through sudo-prompt) only when a feature needs it (elevation.ts); if it dies it is
 * started again, with backoff, and the session reconnects to the new one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventEmitter } from "node:events";
import { forwardLines } from "../../../helper/local/line-socket.js";
import { currentElevationInput, helperElevation, type ElevationDecision } from "./elevation.js";
import { shutdownHelper, type HelperEndpoint } from "./helper-client.js";
import { runElevated, type ElevatedRun } from "./run-elevated.js";

export interface HelperSupervisorOptions {
  /** dist/helper-local.mjs */
  helperPath: string;
  /** "never" keeps it unprivileged even where ICMP would need more (it then uses `ping`). */
  elevation?: "auto" | "never";
  /** A session needs a TUN on this computer (--remote-route): the helper is elevated for it. */
  tun?: boolean;
  /** Where the control directory is made; default $XDG_RUNTIME_DIR, else the temp directory. */
  runtimeDir?: string;
  log(line: string): void;
  /** Replaced in tests; helperElevation on this computer's facts otherwise. */
  decide?: () => ElevationDecision;
}

interface SupervisorEvents {
  /** A helper process is up and answering on its socket. */
  started: [pid: number | null];
  /** It ended; `expected` when stop() asked for it. */
  exited: [info: { code: number | null; expected: boolean }];
}

const START_TIMEOUT_MS = 10_000;
/** Elevation waits for the user to type a password. */
const ELEVATED_START_TIMEOUT_MS = 120_000;
const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 10_000;
/** A helper that lived this long resets the restart backoff. */
const STABLE_MS = 30_000;

export class HelperSupervisor extends EventEmitter<SupervisorEvents> {
  private dir: string | undefined;
  private token = "";
  private child: ChildProcess | undefined;
  private elevated: ElevatedRun | undefined;
  private starting: Promise<HelperEndpoint> | undefined;
  private running: HelperEndpoint | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts = 0;
  private stopped = false;
  /** A shutdown is under way (holdRestarts): a helper that exits is not started again. */
  private holding = false;
  private elevationFailed = false;

  constructor(private readonly options: HelperSupervisorOptions) {
    super();
  }

  /** The running helper's socket and token; starts it first when needed. */
  endpoint(): Promise<HelperEndpoint> {
    if (this.stopped || this.holding) return Promise.reject(new Error("the local helper was stopped"));
    if (this.running) return Promise.resolve(this.running);
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** The helper's process id (null while elevated: it is not ours to signal). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /**
   * The user is disconnecting and stop() follows once the sessions have ended: a helper that exits
   * meanwhile (the same signal reached it) ends with them, and is not started again.
   */
  holdRestarts(): void {
    this.holding = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.starting?.catch(() => undefined);
    const endpoint = this.running;
    const child = this.child;
    const elevated = this.elevated;
    const gone = new Promise<void>((resolve) => {
      if (!child && !elevated) return resolve();
      this.once("exited", () => resolve());
    });
    if (endpoint) await shutdownHelper(endpoint).catch(() => undefined);
    const timer = setTimeout(() => child?.kill("SIGKILL"), 3_000);
    await Promise.race([gone, delay(5_000)]);
    clearTimeout(timer);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async start(): Promise<HelperEndpoint> {
    if (!this.dir) {
      const base = this.options.runtimeDir ?? process.env.XDG_RUNTIME_DIR ?? tmpdir();
      this.dir = mkdtempSync(join(base, "backhaul-")); // mode 0700
      this.token = randomBytes(32).toString("hex");
      writeFileSync(join(this.dir, "token"), `${this.token}\n`, { mode: 0o600, flag: "wx" });
    }
    const endpoint: HelperEndpoint = { socketPath: join(this.dir, "helper.sock"), token: this.token };
    rmSync(endpoint.socketPath, { force: true });
    const decision =
      this.options.elevation === "never" || this.elevationFailed
        ? { elevate: false, reason: "" }
        : (
            this.options.decide ??
            (() => helperElevation({ ...currentElevationInput(), tun: this.options.tun === true }))
          )();
    if (decision.elevate && process.env.APPIMAGE) {
      // Root cannot read an AppImage's FUSE mount, where the helper lives.
      this.elevationFailed = true;
      this.options.log(
        `${decision.reason}; an AppImage cannot start it elevated: pings from the remote use the ping command`,
      );
      return this.start();
    }
    const exited = decision.elevate ? this.spawnElevated(decision.reason) : this.spawnChild();
    const startedAt = Date.now();
    try {
      await waitForSocket(
        endpoint.socketPath,
        exited,
        decision.elevate ? ELEVATED_START_TIMEOUT_MS : START_TIMEOUT_MS,
      );
    } catch (error) {
      if (decision.elevate && !this.stopped) {
        // Cancelled, or no graphical sudo here: run without, and say what that costs.
        this.elevationFailed = true;
        this.options.log(
          `could not start the helper elevated (${message(error)}); ` +
            "running it unprivileged: pings from the remote use the ping command",
        );
        return this.start();
      }
      this.child?.kill("SIGKILL");
      throw new Error(`the local helper did not start: ${message(error)}`, { cause: error });
    }
    this.running = endpoint;
    this.emit("started", this.pid);
    void exited.then((code) => {
      this.running = undefined;
      this.child = undefined;
      this.elevated = undefined;
      this.emit("exited", { code, expected: this.stopped || this.holding });
      if (this.stopped || this.holding) return;
      if (Date.now() - startedAt > STABLE_MS) this.restarts = 0;
      if (decision.elevate) {
        // Restarting now would pop a password dialog the user did not ask for: wait for a connect.
        this.options.log(
          `the elevated local helper exited (${code ?? "killed"}); it starts again on the next connect`,
        );
        return;
      }
      const wait = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** this.restarts++);
      this.options.log(`the local helper exited (${code ?? "killed"}); starting it again in ${wait} ms`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.endpoint().catch((error: unknown) => this.options.log(message(error)));
      }, wait);
    });
    return endpoint;
  }

  /** Resolves with the exit code when the process ends. */
  private spawnChild(): Promise<number | null> {
    const args = [
      this.options.helperPath,
      "--control-dir",
      this.dir ?? "",
      "--parent-pid",
      String(process.pid),
    ];
    const child = spawn(process.execPath, args, {
      stdio: ["ignore", "ignore", "pipe"],
      // Inside Electron, process.execPath is the app: this makes it behave as Node.
      env: { ...process.env, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: "1" } : {}) },
    });
    this.child = child;
    if (child.stderr) forwardLines(child.stderr, this.options.log);
    return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  private spawnElevated(reason: string): Promise<number | null> {
    this.options.log(`starting the helper elevated: ${reason}`);
    const args = [this.options.helperPath, "--control-dir", this.dir ?? ""];
    args.push("--owner-uid", String(process.getuid?.() ?? 0), "--parent-pid", String(process.pid));
    this.elevated = runElevated(process.execPath, args, this.options.log);
    return this.elevated.exited;
  }
}

/** Resolves once the socket accepts connections; rejects if `exited` resolves or time runs out. */
async function waitForSocket(path: string, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code ?? -1));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone !== undefined) throw new Error(`it exited (${gone}) before listening`);
    if (await canConnect(path)) return;
    if (Date.now() > deadline) throw new Error(`it did not listen within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // kept referenced: a start is awaited
  }
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy(); // the helper sees a connection without a first line, and drops it
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
