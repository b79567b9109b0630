// Keeps the routes into the TUN equal to the advertised list while the link runs: each apply
// plans against the remote's routing as it is now, adds what is new and removes what is gone,
// every change through the journal. Routes it did not add are never touched.
import { LinuxInterface } from "../system/tun/index.js";
import { execFileRunner, isAlreadyExists, tunRunner, type CommandRunner } from "../system/command.js";
import { NothingChangedError } from "../system/errors.js";
import type { Journal } from "../system/journal.js";
import { planRoutes, readRemoteRouting, type RemoteRouting, type RoutePlan } from "./routes.js";

export interface RouteSyncOptions {
  journal: Journal;
  /** The TUN device the routes go into. */
  dev: string;
  run?: CommandRunner;
  /** The SSH peer's address, never to be routed into the link. */
  sshPeer?: string;
  /** Reads the remote's routing; by default with `ip -j route`. Tests pass a fixed table. */
  readRouting?: () => Promise<RemoteRouting>;
}

export interface RouteSyncFailure {
  prefix: string;
  action: "add" | "remove";
  error: Error;
}

export interface RouteSyncResult extends RoutePlan {
  added: string[];
  removed: string[];
  /** Changes that failed; the others were still made. */
  failed: RouteSyncFailure[];
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class RouteSync {
  private readonly journal: Journal;
  private readonly dev: string;
  private readonly iface: LinuxInterface;
  private readonly readRouting: () => Promise<RemoteRouting>;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: RouteSyncOptions) {
    const run = options.run ?? execFileRunner;
    this.journal = options.journal;
    this.dev = options.dev;
    this.iface = new LinuxInterface(options.dev, tunRunner(run));
    this.readRouting =
      options.readRouting ??
      (() => readRemoteRouting({ ownDev: options.dev, sshPeer: options.sshPeer, run }));
  }

  /** The prefixes this sync has routed into the device, as the journal records them. */
  current(): string[] {
    return this.routeEntries().map((entry) => entry.prefix);
  }

  /** Applies a new advertised list; calls run one after another. */
  apply(advertised: readonly string[]): Promise<RouteSyncResult> {
    const result = this.tail.then(() => this.sync(advertised));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private routeEntries(): Array<{ id: number; prefix: string }> {
    return this.journal
      .entries()
      .flatMap((entry) => (entry.kind === "route" && entry.dev === this.dev ? [entry] : []));
  }

  private async sync(advertised: readonly string[]): Promise<RouteSyncResult> {
    const plan = planRoutes(advertised, await this.readRouting());
    const result: RouteSyncResult = { ...plan, added: [], removed: [], failed: [] };
    const wanted = new Set(plan.route.map((route) => route.prefix));
    const present = this.routeEntries();
    const have = new Set(present.map((entry) => entry.prefix));
    // New routes first: a prefix that is being narrowed or widened never goes unrouted.
    for (const prefix of wanted) {
      if (have.has(prefix)) continue;
      try {
        await this.journal.recordThenApply({ kind: "route", prefix, dev: this.dev }, () => this.add(prefix));
        result.added.push(prefix);
      } catch (error) {
        result.failed.push({ prefix, action: "add", error: asError(error) });
      }
    }
    for (const entry of present) {
      if (wanted.has(entry.prefix)) continue;
      try {
        await this.journal.undo(entry.id);
        result.removed.push(entry.prefix);
      } catch (error) {
        result.failed.push({ prefix: entry.prefix, action: "remove", error: asError(error) });
      }
    }
    return result;
  }

  private async add(prefix: string): Promise<void> {
    try {
      await this.iface.addRoute(prefix);
    } catch (error) {
      if (isAlreadyExists(error)) {
        throw new NothingChangedError(`the remote already has a route for ${prefix}: not replaced`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}
