import { EventEmitter } from "node:events";
import { advertisableRoutes, listRoutes, type RouteEntry } from "../../helper/routes/index.js";

export interface RouteWatchOptions {
  /** The user's --route additions and --exclude removals. */
  include: readonly string[];
  exclude: readonly string[];
  /** How often the OS routes are read: a VPN coming up shows within this. */
  intervalMs?: number;
  /** Default: the OS's routes; tests inject a list. */
  readRoutes?: () => Promise<RouteEntry[]>;
}

interface RouteWatchEvents {
  change: [prefixes: string[]];
  error: [error: Error];
}

/**
 * Watches this computer's routes and says when the advertised set changes (a VPN came up or went
 * down), so the session re-advertises without reconnecting. Polling keeps it one small piece of
 * code for all three OSes; a few seconds is quick enough for a VPN.
 */
export class RouteWatch extends EventEmitter<RouteWatchEvents> {
  private timer: NodeJS.Timeout | undefined;
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
    const prefixes = await this.current();
    this.last = prefixes.join(",");
    this.timer = setInterval(() => void this.poll(), this.options.intervalMs ?? 3_000);
    this.timer.unref();
    return prefixes;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    try {
      const prefixes = await this.current();
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
