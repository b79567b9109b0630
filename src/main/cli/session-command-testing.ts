/**
 * For the tests of the commands that ask a running session (`backhaul dns`, `backhaul
 * allow-local`): real control sockets (session-control.ts) in a private runtime directory, a
 * window's session, and a run of a command that captures what it writes.
 */
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
