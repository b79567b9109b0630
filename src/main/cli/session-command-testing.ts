/**
 * For the tests of the commands that ask a running session (`backhaul dns`, `backhaul
 * allow-local`): real control sockets (session-control.ts) in a private runtime directory, a
 * window's session, and a run of a command that captures what it writes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, mock } from "node:test";
import {
  startSessionControl,
  type SessionControl,
  type SessionControlHandlers,
} from "../broker/session-control.js";

/** A session of the window: it answers info, and owns no setting (its Settings do). */
export const WINDOW_SESSION: SessionControlHandlers = {
  state: () => "connected",
  diagnose: () => Promise.reject(new Error("not asked")),
};

/** A connected `backhaul connect` session that owns the settings `own` handles. */
export function cliSession(own: Omit<SessionControlHandlers, "state" | "diagnose">): SessionControlHandlers {
  return { ...WINDOW_SESSION, ...own };
}

/**
 * One command's test kit: its sessions in a private runtime directory (privateSessions) and a
 * run of the command that captures what it writes.
 */
export function sessionCommandKit(
  name: string,
  command: (args: string[]) => Promise<number>,
): {
  sessions: ReturnType<typeof privateSessions>;
  run: (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
} {
  return {
    sessions: privateSessions(`backhaul-${name}-command-`),
    run: (args) => runCapturing(command, args),
  };
}

/**
 * In a test file: XDG_RUNTIME_DIR points at a private directory for its tests (restored after
 * them); `start` opens a session's control socket there, closed after them.
 */
export function privateSessions(prefix: string): {
  start(target: string, handlers: SessionControlHandlers): Promise<SessionControl>;
} {
  const runtime = mkdtempSync(join(tmpdir(), prefix));
  const saved = process.env.XDG_RUNTIME_DIR;
  const controls: SessionControl[] = [];
  before(() => {
    process.env.XDG_RUNTIME_DIR = runtime;
  });
  after(() => {
    for (const control of controls) control.close();
    if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = saved;
    rmSync(runtime, { recursive: true, force: true });
  });
  return {
    async start(target, handlers) {
      const control = await startSessionControl(target, handlers, join(runtime, "backhaul-sessions"));
      controls.push(control);
      return control;
    },
  };
}

/** Runs `command` with `args`, capturing what it writes to stdout and stderr. */
export async function runCapturing(
  command: (args: string[]) => Promise<number>,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  mock.method(process.stdout, "write", (chunk: string) => ((stdout += chunk), true));
  mock.method(process.stderr, "write", (chunk: string) => ((stderr += chunk), true));
  try {
    return { code: await command(args), stdout, stderr };
  } finally {
    mock.restoreAll();
  }
}

type CapturedRun = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/** No session runs: exit `code` (3), how to start one, and with --json an error object. */
async function assertNoSessionAnswer(run: CapturedRun, args: string[], code: number): Promise<void> {
  const result = await run([...args, "--json"]);
  assert.equal(result.code, code);
  assert.match(result.stderr, /no running session: start one with `backhaul connect TARGET`/);
  assert.equal((JSON.parse(result.stdout) as { type: string }).type, "error");
}

/** Two sessions (me_devbox, me_window) and no --session: exit `code` (3) and the names to pick from. */
async function assertAmbiguousAnswer(run: CapturedRun, args: string[], code: number): Promise<void> {
  const ambiguous = await run(args);
  assert.equal(ambiguous.code, code);
  assert.match(ambiguous.stderr, /several sessions run; pick one with --session NAME:\n {2}me_devbox /);
}

/** --session names none of them: exit `code` (3) and the sessions that do run. */
async function assertMissingSessionAnswer(run: CapturedRun, args: string[], code: number): Promise<void> {
  const missing = await run([...args, "--session", "nope"]);
  assert.equal(missing.code, code);
  assert.match(missing.stderr, /no running session named "nope"; running: me_devbox, me_window/);
}

/** What every session command answers when it cannot pick a session (session-pick.ts). */
export const sessionPickAnswers = {
  none: assertNoSessionAnswer,
  ambiguous: assertAmbiguousAnswer,
  missing: assertMissingSessionAnswer,
};
