import assert from "node:assert/strict";
import { test } from "node:test";
import { DeployFailedError } from "./errors.js";
import type { RemoteResult, RemoteShell } from "./remote-shell.js";
import { ensureRemoteDirectory } from "./upload-verified.js";

/** A shell whose runs answer `results` in turn, and that records what it ran. */
function scriptedShell(results: RemoteResult[]): RemoteShell & { ran: string[] } {
  const ran: string[] = [];
  return {
    label: "devbox",
    ran,
    run: (script) => {
      ran.push(script);
      const result = results.shift();
      return result ? Promise.resolve(result) : Promise.reject(new Error("no more runs scripted"));
    },
    put: () => Promise.reject(new Error("not used")),
    startAgent: () => Promise.reject(new Error("not used")),
  };
}

const DIR = "/home/dev/.cache/backhaul/agent/0.1.0-abc";
const noStatus: RemoteResult = { code: null, stdout: "", stderr: "" };

test("a mkdir that ended without an exit status is run once more", async () => {
  const shell = scriptedShell([noStatus, { code: 0, stdout: "", stderr: "" }]);
  await ensureRemoteDirectory(shell, DIR);
  assert.equal(shell.ran.length, 2);
  assert.equal(shell.ran[0], shell.ran[1]);
  assert.equal(shell.ran[0], `umask 077 && mkdir -p ${DIR} && chmod 700 ${DIR}`);
});

test("twice without a status: the error says how it ended; a signal is named; a real failure is not retried", async () => {
  await assert.rejects(
    ensureRemoteDirectory(scriptedShell([noStatus, noStatus]), DIR),
    (error: unknown) =>
      error instanceof DeployFailedError &&
      error.message ===
        `cannot create ${DIR} on devbox: it ended without an exit status (the SSH channel closed first)`,
  );
  await assert.rejects(
    ensureRemoteDirectory(scriptedShell([noStatus, { ...noStatus, signal: "SIGKILL" }]), DIR),
    /cannot create .* on devbox: ended by SIGKILL$/,
  );
  const denied = scriptedShell([{ code: 1, stdout: "", stderr: "mkdir: Permission denied\n" }]);
  await assert.rejects(ensureRemoteDirectory(denied, DIR), /on devbox: mkdir: Permission denied$/);
  assert.equal(denied.ran.length, 1);
});
