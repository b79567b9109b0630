/**
 * What the human output makes of the helper's and the agent's own lines: which are routine (shown
 * only with --verbose), what the agent routed and skipped, and whether it restored the remote.
 * The patterns follow the wording of src/helper/agent/entry.ts, src/helper/agent/shutdown.ts and
 * journal.ts (the agent), src/helper/local/entry.ts and local-server.ts (the helper), and the SSH and
 * upload notes of src/main/broker: the agent is deployed at this version, so its words are ours.
 * A line no pattern knows is shown: errors and warnings always print.
 */

const ROUTINE: readonly RegExp[] = [
  /^backhaul helper: (listening on |link [0-9a-f]+ (started|closed)|stopping: )/,
  /^backhaul helper: refused a connection: the connection ended before its first line$/,
  /^backhaul agent: (not routing |routing \d+ prefix\(es\) into |ready: |dns: (rewrites |sets DNS on |split, \d+ domain))/,
  /^backhaul agent: .*: undoing system changes$/,
  /^backhaul agent: .* while already stopping; still undoing changes$/,
  /^backhaul agent: (previous run: )?(undone|already gone): /,
  /: \S+ host key, \S+, \S+$/,
  /^(uploading|uploaded) the agent to /,
  /^the agent \S+ is already on /,
];

/** True for a line the default output leaves out. */
export function isRoutine(line: string): boolean {
  return ROUTINE.some((pattern) => pattern.test(line));
}

export interface Routing {
  /** How many prefixes the agent routed into its TUN device. */
  count: number;
  /** Advertised prefixes it did not route, with why. */
  skipped: Map<string, string>;
  /** Prefixes whose route the agent failed to add (its own line says why). */
  failed: Set<string>;
}

/** The agent's restore: not begun, begun, or done (it reports every change once all are handled). */
export type Restore =
  { state: "none" } | { state: "undoing" } | { state: "reported"; undone: number; failed: number };

const SKIPPED = /^backhaul agent: not routing (\S+): (?:\S+ is not routed: )?(.*)$/;
const ROUTE_FAILED = /^backhaul agent: route \S+ (\S+) failed: /;
const ROUTED = /^backhaul agent: routing (\d+) prefix\(es\) into /;
const UNDOING = /^backhaul agent: .*: undoing system changes$/;
const UNDONE = /^backhaul agent: (undone|already gone): /;
/** Changed since by someone else, so kept as it is: reported, neither undone nor failed. */
const LEFT_ALONE = /^backhaul agent: left alone: /;
const UNDO_FAILED = /^backhaul agent: (FAILED to undo |undoing changes failed: )/;

/** Follows one agent's lines: its routing rounds and its restore. */
export class AgentReport {
  private skipped = new Map<string, string>();
  private failed = new Set<string>();
  private undo: Restore = { state: "none" };

  /** A new agent starts: what the last one said no longer applies. */
  reset(): void {
    this.skipped = new Map();
    this.failed = new Set();
    this.undo = { state: "none" };
  }

  get restore(): Restore {
    return this.undo;
  }

  /** Reads one line; returns the routing round it completes, if it is the round's last line. */
  observe(line: string): Routing | undefined {
    const skipped = SKIPPED.exec(line);
    if (skipped) this.skipped.set(skipped[1] ?? "", skipped[2] ?? "");
    const failed = ROUTE_FAILED.exec(line);
    if (failed) this.failed.add(failed[1] ?? "");
    if (UNDOING.test(line)) this.undo = { state: "undoing" };
    const undone = UNDONE.test(line);
    const failedUndo = UNDO_FAILED.test(line);
    if (this.undo.state !== "none" && (undone || failedUndo || LEFT_ALONE.test(line))) {
      if (this.undo.state === "undoing") this.undo = { state: "reported", undone: 0, failed: 0 };
      if (undone) this.undo.undone++;
      if (failedUndo) this.undo.failed++;
    }
    const routed = ROUTED.exec(line);
    if (!routed) return undefined;
    const round = { count: Number(routed[1]), skipped: this.skipped, failed: this.failed };
    this.skipped = new Map();
    this.failed = new Set();
    return round;
  }
}

/** One line: what is routed into the remote, and what is not and why. */
export function describeRouting(advertised: readonly string[], routing: Routing): string {
  const routed = advertised.filter((prefix) => !routing.skipped.has(prefix) && !routing.failed.has(prefix));
  // The agent's own count wins where the two disagree (a prefix it wrote another way).
  const what =
    routing.count === 0
      ? "routing nothing into the remote"
      : routed.length === routing.count
        ? `routing ${routed.join(", ")} into the remote`
        : `routing ${routing.count} prefix(es) into the remote`;
  const skipped = [...routing.skipped].map(([prefix, why]) => `${prefix} (${why})`);
  return skipped.length > 0 ? `${what}; not ${skipped.join(", ")}` : what;
}
