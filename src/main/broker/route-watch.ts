import { EventEmitter } from "node:events";
import { advertisableRoutes, listRoutes, type RouteEntry } from "./routes/index.js";
import {
  routeMonitorCommand,
  watchRouteEvents,
  type MonitorCommand,
  type RouteEvents,
} from "./route-events.js";

export interface RouteWatchOptions {
  /** The user's --route additions and --exclude removals. */
  include: readonly string[];
  exclude: readonly string[];
  /** How often the OS routes are read when no monitor tells of changes (Windows, or it failed). */
  intervalMs?: number;
  /** How often they are read anyway while the monitor runs: a safety net. */
  monitoredIntervalMs?: number;
  /** Default: the OS's routes; tests inject a list. */
  readRoutes?: () => Promise<RouteEntry[]>;
  /** The OS's route monitor (route-events.ts); null: poll only. Default: this OS's. */
  monitor?: MonitorCommand | null;
  /** Wait after a monitor event before reading: a VPN coming up is a burst of events. */
  settleMs?: number;
  /** Least time between two reads caused by events: a host whose interfaces churn (containers,
   * flapping Wi-Fi) must not spawn `ip` many times a second. Default: the monitor's, or 500 ms. */
  minGapMs?: number;
  /** Said once, as a sentence, when the monitor is lost and the watch falls back to polling. */
  onMonitorLost?: (why: string) => void;
}

const POLL_MS = 3_000;
const MONITORED_POLL_MS = 60_000;
const SETTLE_MS = 150;
const MIN_GAP_MS = 500;

interface RouteWatchEvents {
  change: [prefixes: string[]];
  error: [error: Error];
}

/**
 * Watches this computer's routes and says when the advertised set changes (a VPN came up or went
 * down), so the session re-advertises without reconnecting. The OS's monitor says when to look
 * (Linux, macOS); a slow poll stays as a safety net, and a fast one where there is no monitor.
 */
export class RouteWatch extends EventEmitter<RouteWatchEvents> {
  private timer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private lastReadAt = 0;
  private minGapMs = MIN_GAP_MS;
  private events: RouteEvents | undefined;
  private running = false;
  private last = "";
  private readonly read: () => Promise<RouteEntry[]>;

  constructor(private readonly options: RouteWatchOptions) {
    super();
    this.read = options.readRoutes ?? (() => listRoutes());
  }

  /** The advertised prefixes now. */
  async current(): Promise<string[]> {
    const entries = await this.read();
    return advertisableRoutes(entries, { include: this.options.include, exclude: this.options.exclude }).map(
      (route) => route.prefix,
    );
  }

  /** Starts watching; the first reading is the baseline, not a change. */
  async start(): Promise<string[]> {
    const monitor = this.options.monitor === undefined ? routeMonitorCommand() : this.options.monitor;
    this.running = true;
    // Before the baseline: a change while it is read is then not missed.
    if (monitor) {
      this.minGapMs = this.options.minGapMs ?? monitor.minGapMs ?? MIN_GAP_MS;
      this.events = watchRouteEvents(
        monitor,
        () => this.settle(),
        (why) => {
          const pollMs = this.options.intervalMs ?? POLL_MS;
          this.options.onMonitorLost?.(
            `${why}: reading this computer's routes every ${pollMs / 1000} s instead`,
          );
          this.events = undefined;
          if (this.running) this.pollEvery(pollMs);
        },
      );
    }
    let prefixes: string[];
    try {
      prefixes = await this.current();
    } catch (error) {
      this.stop();
      throw error;
    }
    this.last = prefixes.join(",");
    this.lastReadAt = Date.now();
    if (this.running) {
      this.pollEvery(
        this.events
          ? (this.options.monitoredIntervalMs ?? MONITORED_POLL_MS)
          : (this.options.intervalMs ?? POLL_MS),
      );
    }
    return prefixes;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    this.events?.stop();
    this.events = undefined;
  }

  private pollEvery(ms: number): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => void this.poll(), ms);
    this.timer.unref();
  }

  /** One read for a burst of events, never sooner than minGapMs after the last read. */
  private settle(): void {
    if (this.settleTimer) return; // the read already scheduled covers this event too
    const settleMs = this.options.settleMs ?? SETTLE_MS;
    const gapMs = this.lastReadAt + this.minGapMs - Date.now();
    this.settleTimer = setTimeout(
      () => {
        this.settleTimer = undefined;
        void this.poll();
      },
      Math.max(settleMs, gapMs),
    );
    this.settleTimer.unref();
  }

  private async poll(): Promise<void> {
    this.lastReadAt = Date.now();
    try {
      const prefixes = await this.current();
      if (!this.running) return;
      const key = prefixes.join(",");
      if (key !== this.last) {
        this.last = key;
        this.emit("change", prefixes);
      }
    } catch (error) {
      this.emit("error", error instanceof Error ? error : new Error(String(error)));
    }
  }
}
