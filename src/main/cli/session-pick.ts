/**
 * Which running session a command asks (`backhaul diagnose`, `backhaul dns`, `backhaul
 * allow-local`): the one named by --session, else the only one; otherwise a message that says
 * what to do.
 */
import { parseArgs } from "node:util";
import {
  askSession,
  runningSessions,
  type RunningSession,
  type SessionControlReply,
  type SessionControlRequest,
} from "../broker/session-control.js";

export type SessionPick = { session: RunningSession } | { problem: string };

/** A session command's arguments: its words, --session NAME and --json; any other option throws. */
export function parseSessionCommandArgs(args: string[]): {
  words: string[];
  session: string | undefined;
  json: boolean;
} {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { session: { type: "string" }, json: { type: "boolean", default: false } },
  });
  return { words: positionals, session: values.session, json: values.json };
}

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

/** Exit codes of the commands that change a running session (`backhaul dns`, `backhaul allow-local`). */
export const SESSION_CHANGE_EXIT = { done: 0, refused: 1, usage: 2, noSession: 3, noAnswer: 4 } as const;

export interface SessionChange {
  /** --session: which session, else the only one. */
  named: string | undefined;
  /** --json: the outcome as one JSON object. */
  json: boolean;
  request: SessionControlRequest;
  timeoutMs: number;
  /** The --json object of a done change. */
  jsonOf(session: string, reply: Extract<SessionControlReply, { type: "done" }>): Record<string, unknown>;
}

/**
 * Asks the picked session for a change and reports its answer: done, as `NAME: message` (or
 * `jsonOf`), exit 0; the session's refusal with its reason, 1; no such session 3; no answer 4.
 */
export async function changeSession(change: SessionChange): Promise<number> {
  const codes = SESSION_CHANGE_EXIT;
  const output = commandOutput(change.json);
  const asked = await askPickedSession(change.named, change.request, change.timeoutMs, output, codes);
  if ("code" in asked) return asked.code;
  const { session, reply } = asked;
  const { out, fail } = output;
  if (reply.type === "error") return fail(codes.refused, `the session ${session.name}: ${reply.message}`);
  if (reply.type !== "done") return fail(codes.noAnswer, `the session ${session.name} gave no answer`);
  out(change.json ? JSON.stringify(change.jsonOf(session.name, reply)) : `${session.name}: ${reply.message}`);
  return codes.done;
}
