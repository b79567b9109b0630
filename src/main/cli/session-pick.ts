/**
 * Which running session a command asks (`backhaul diagnose`, `backhaul dns`): the one named by
 * --session, else the only one; otherwise a message that says what to do.
 */
import { runningSessions, type RunningSession } from "../broker/session-control.js";

export type SessionPick = { session: RunningSession } | { problem: string };

export async function pickSession(named: string | undefined): Promise<SessionPick> {
  let sessions: RunningSession[];
  try {
    sessions = await runningSessions();
  } catch (error) {
    return { problem: (error as Error).message };
  }
  if (named !== undefined) {
    const session = sessions.find((s) => s.name === named);
    if (session) return { session };
    return {
      problem:
        `no running session named "${named}"` +
        (sessions.length > 0 ? `; running: ${sessions.map((s) => s.name).join(", ")}` : ""),
    };
  }
  if (sessions.length === 0)
    return {
      problem:
        "no running session: start one with `backhaul connect TARGET` (or connect in the window), then ask again",
    };
  if (sessions.length > 1) {
    const list = sessions.map((s) => `  ${s.name}  (${s.target}, pid ${s.pid})`).join("\n");
    return { problem: `several sessions run; pick one with --session NAME:\n${list}` };
  }
  return { session: sessions[0]! };
}
