/**
 * The local helper (exit role): `backhaul-helper`. Main starts and supervises it
 * (src/main/broker/helper): it listens on an owner-only Unix socket in a 0700 directory, accepts
 * only connections whose first line carries the token main wrote to DIR/token (never argv), and
 * runs the NAT and DNS engines for each link. It may run elevated (ICMP, the TUN of
 * `--remote-route`), so it trusts nothing but the token. Its changes to this computer are
 * journaled (local-journal.ts): undone when a link closes, on SIGTERM/SIGHUP and shutdown, and
 * after a crash or SIGKILL by the next helper's start.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { VERSION } from "../../shared/version.js";
import { openControlDir } from "./control-dir.js";
import { startHelperServer, type HelperServer } from "./local-server.js";
import { createIcmpForwarder } from "../engines/nat/icmp/index.js";
import { localJournalDirectory, recoverLocalJournals } from "./local-journal.js";
import { tuneHeapForStreaming } from "../engines/heap-tuning.js";

const USAGE = `backhaul-helper ${VERSION}: the local side of Backhaul (NAT and DNS engines)

Usage: backhaul-helper --control-dir DIR [--owner-uid UID] [--parent-pid PID]
  --control-dir DIR   a directory only its owner can enter (mode 0700) holding the token file
                      "token"; the helper listens on DIR/helper.sock
  --owner-uid UID     when running elevated: the user the socket belongs to
  --parent-pid PID    exit when this process is gone (main, when the helper runs elevated)
The backhaul app and command line start this for you.
`;

const PARENT_CHECK_MS = 2_000;

function log(line: string): void {
  process.stderr.write(`backhaul helper: ${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "control-dir": { type: "string" },
      "owner-uid": { type: "string" },
      "parent-pid": { type: "string" },
      version: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return void process.stdout.write(USAGE);
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  const dir = values["control-dir"];
  if (!dir) throw new Error("--control-dir DIR is required (see --help)");
  const ownerUid = values["owner-uid"] === undefined ? undefined : Number(values["owner-uid"]);
  if (ownerUid !== undefined && !Number.isInteger(ownerUid)) throw new Error("--owner-uid takes a user id");
  const owner = ownerUid ?? process.getuid?.();
  // Signals are handled from the start: a Ctrl+C that reaches us while we start up (main's
  // process group) must not kill us before the handler exists — main may already see our socket.
  let server: HelperServer | undefined = undefined;
  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log(`stopping: ${why}`);
    await server?.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGHUP", () => void stop("SIGHUP"));
  const parent = values["parent-pid"] === undefined ? undefined : Number(values["parent-pid"]);
  // A terminal's Ctrl+C reaches main's whole process group. Main must close the links first, so
  // that the agent restores the remote, and then asks us to shut down (or is gone: see below).
  if (parent === undefined) process.on("SIGINT", () => void stop("SIGINT"));
  else process.on("SIGINT", () => undefined);
  // Root in another user's directory must not follow paths there (control-dir.ts). Kept open for
  // the helper's life: the socket's link is removed through it at the end.
  const controlDir = openControlDir(dir, owner, process.getuid?.() === 0 && owner !== 0);
  const token = controlDir.readToken();
  // Before anything else: a helper that was killed may have left a TUN's resolver rules behind.
  const journalDir = await localJournalDirectory();
  await recoverLocalJournals({ dir: journalDir, log }).catch((error: unknown) =>
    log(`could not undo what a previous helper left in ${journalDir}: ${String(error)}`),
  );

  server = await startHelperServer({
    socketPath: controlDir.entry("helper.sock"),
    token,
    ownerUid,
    icmp: createIcmpForwarder,
    journalDir,
    log,
    onShutdown: () => void stop("asked to shut down"),
  });
  log(`listening on ${join(dir, "helper.sock")} (pid ${process.pid})`);

  if (parent !== undefined) {
    setInterval(() => {
      if (!isAlive(parent)) void stop(`main (pid ${parent}) is gone`);
    }, PARENT_CHECK_MS).unref();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

tuneHeapForStreaming();
main().catch((error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
