/**
 * Which running session a command asks (`backhaul diagnose`, `backhaul dns`): the one named by
 * --session, else the only one; otherwise a message that says what to do.
 */
import {
  askSession,
  runningSessions,
  type RunningSession,
  type SessionControlReply,
} from "../broker/session-control.js";

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

/** A session command's output: lines on stdout; a failure on stderr (and as JSON with --json). */
export interface CommandOutput {
  out(line: string): void;
  /** Reports `message` and returns `code`, the command's exit code. */
  fail(code: number, message: string): number;
}

export function commandOutput(json: boolean): CommandOutput {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  return {
    out,
    fail(code, message) {
      if (json) out(JSON.stringify({ type: "error", message }));
      process.stderr.write(`backhaul: ${message}\n`);
      return code;
    },
  };
}

/**
 * Picks the session (`named`, else the only one) and sends it `request`; a session that cannot be
 * picked or does not answer is reported with `codes` and ends the command with that exit code.
 */
export async function askPickedSession(
  named: string | undefined,
  request: Parameters<typeof askSession>[1],
  timeoutMs: number,
  output: CommandOutput,
  codes: { noSession: number; noAnswer: number },
): Promise<{ session: RunningSession; reply: SessionControlReply } | { code: number }> {
  const picked = await pickSession(named);
  if ("problem" in picked) return { code: output.fail(codes.noSession, picked.problem) };
  const { session } = picked;
  try {
    return { session, reply: await askSession(session, request, timeoutMs) };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { code: output.fail(codes.noAnswer, `the session ${session.name} did not answer: ${why}`) };
  }
}
