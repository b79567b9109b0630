// Typed errors of the agent's system changes, with messages that say what to do.
import type { ProcessIdentity } from "./process-identity.js";

/** The journal file or its directory cannot be used as it is. */
export class JournalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "JournalError";
  }
}

/** Another agent owns the journal and is still running: we must not undo its changes. */
export class AgentStillRunningError extends Error {
  constructor(
    readonly journalPath: string,
    readonly owner: ProcessIdentity | null,
  ) {
    const who = owner === null ? "another backhaul agent" : `another backhaul agent (pid ${owner.pid})`;
    super(
      `${who} is running on this host and owns ${journalPath}; ` +
        `stop it first (disconnect its session, or kill ${owner?.pid ?? "it"}) and start again`,
    );
    this.name = "AgentStillRunningError";
  }
}

/** The remote's resolver is set up in a way the agent does not change. */
export class DnsUnsupportedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DnsUnsupportedError";
  }
}

/** A system change that was refused before anything was touched (e.g. the interface exists). */
export class NothingChangedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NothingChangedError";
  }
}
