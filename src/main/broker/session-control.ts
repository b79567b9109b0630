/**
 * A running session's control socket: how `backhaul diagnose` finds a `backhaul connect` (or the
 * window's session) and asks it "Can the remote reach …?".
 *
 * Where: one directory per user, $XDG_RUNTIME_DIR/backhaul-sessions, else
 * $TMPDIR/backhaul-sessions-UID; made 0700 and refused when it is a symlink, another user's, or
 * open to others. In it, per session: NAME.sock (a Unix socket, 0600) and NAME.json (0600: the
 * session's name, target, pid and a random token). Who may ask: only the user. The directory and
 * the socket's modes keep other users out, and every connection must also send the token, which
 * only a reader of NAME.json (the user, or root) has; it is compared in constant time.
 *
 * Protocol, one JSON line each way:
 *   C: {"token", "type":"info"}                      S: {"type":"info", name, target, pid, state, remoteDns}
 *   C: {"token", "type":"diagnose", "host", "port"}  S: {"type":"result", result} | {"type":"error", message}
 *   C: {"token", "type":"dnsMode", "mode"}           S: {"type":"done", message} | {"type":"error", message}
 *      (mode all, split or off: the remote's resolver follows while connected, as Settings → DNS does)
 *   C: {"token", "type":"allowLocal", "allow"}       S: {"type":"done", message, endedFlows} | {"type":"error", message}
 *      (allow true or false: whether the remote may reach this computer itself, as Settings does;
 *      endedFlows: the open flows to this computer that switching it off ended)
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DiagnoseRequest, DiagnoseResult } from "../../shared/api.js";
import { validateRequest } from "../../shared/api-validate.js";
import { claimSocketPath, socketAccepts } from "../../helper/engines/socket-path.js";
import { readFirstLine } from "../../helper/local/line-socket.js";
import type { DnsMode } from "./local-dns-domains.js";
import type { RemoteDnsStatus } from "../../shared/remote-dns-status.js";

const MAX_LINE = 64 * 1024;
const FIRST_LINE_TIMEOUT_MS = 5_000;

export interface SessionInfo {
  name: string;
  /** The target as the user gave it: "devbox", "exec:…". */
  target: string;
  pid: number;
  /** "connected", "connecting", "reconnecting"…: the session's state now. */
  state: string;
  /** The remote's DNS as its agent last reported it (mode, setup, split's counts), or null. */
  remoteDns: RemoteDnsStatus | null;
}

export interface SessionControlHandlers {
  state(): string;
  /** The session's remote DNS (Session.remoteDns); absent: never known. */
  remoteDns?(): RemoteDnsStatus | null;
  diagnose(request: DiagnoseRequest): Promise<DiagnoseResult>;
  /** Changes the session's DNS mode; absent where another place owns it (the window's Settings). */
  dnsMode?(mode: DnsMode): Promise<string>;
  /** Changes "allow access to this computer"; absent where another place owns it (the window's Settings). */
  allowLocal?(allow: boolean): Promise<{ message: string; endedFlows: number }>;
}

/** What a client may ask a session (the token is added when it is sent). */
export type SessionControlRequest =
  | { type: "info" }
  | { type: "diagnose"; host: string; port: number }
  | { type: "dnsMode"; mode: DnsMode }
  | { type: "allowLocal"; allow: boolean };

export type SessionControlReply =
  | ({ type: "info" } & SessionInfo)
  | { type: "result"; result: DiagnoseResult }
  | { type: "done"; message: string; endedFlows?: number }
  | { type: "error"; message: string };

/** The per-user directory of session sockets, for `uid` (default: this process's user). */
export function sessionsDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  return env.XDG_RUNTIME_DIR
    ? join(env.XDG_RUNTIME_DIR, "backhaul-sessions")
    : join(env.TMPDIR ?? tmpdir(), `backhaul-sessions-${uid}`);
}

/** Makes (or checks) the directory: a real directory, ours, closed to everyone else. */
export function ensureSessionsDir(dir: string, uid = process.getuid?.() ?? 0): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkPrivateDir(dir, uid);
}

function checkPrivateDir(dir: string, uid: number): void {
  const info = lstatSync(dir);
  if (info.isSymbolicLink() || !info.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (info.uid !== uid) throw new Error(`${dir} belongs to uid ${info.uid}, not ${uid}: not used`);
  if ((info.mode & 0o077) !== 0)
    throw new Error(
      `${dir} is open to other users (mode ${(info.mode & 0o777).toString(8)}); it must be 0700`,
    );
}

/** A name for files: the target's safe characters, at most 40. */
export function sessionName(target: string): string {
  const name = target
    .replace(/^[a-z]+:(\/\/)?/i, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[._-]+/, "")
    .slice(0, 40)
    .replace(/[._-]+$/, "");
  return name || "session";
}

export interface SessionControl {
  readonly name: string;
  readonly socketPath: string;
  close(): void;
}

/**
 * Listens on DIR/NAME.sock for the session `target` and writes DIR/NAME.json. A name another
 * running session holds gets a number (devbox-2); files of sessions that are gone are replaced.
 */
export async function startSessionControl(
  target: string,
  handlers: SessionControlHandlers,
  dir = sessionsDir(),
): Promise<SessionControl> {
  ensureSessionsDir(dir);
  const base = sessionName(target);
  const token = randomBytes(32).toString("hex");
  const expected = Buffer.from(token);
  for (let n = 1; n <= 100; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    const socketPath = join(dir, `${name}.sock`);
    if (!(await claimSocketPath(socketPath))) continue; // a running session's
    const server = createServer((socket) => void serve(socket, name));
    const umask = process.umask(0o177); // owner-only from the start, no window before a chmod
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(socketPath, () => resolve());
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") continue; // lost a race
      throw error;
    } finally {
      process.umask(umask);
    }
    const infoPath = join(dir, `${name}.json`);
    rmSync(infoPath, { force: true });
    writeFileSync(infoPath, JSON.stringify({ name, target, pid: process.pid, token }), {
      mode: 0o600,
      flag: "wx",
    });
    return {
      name,
      socketPath,
      close: () => closeServer(server, socketPath, infoPath),
    };
  }
  throw new Error(`100 sessions named ${base} already run`);

  async function serve(socket: Socket, name: string): Promise<void> {
    socket.on("error", () => undefined);
    const reply = (message: SessionControlReply): void => void socket.end(`${JSON.stringify(message)}\n`);
    let request: Record<string, unknown>;
    try {
      const parsed = JSON.parse(await readFirstLine(socket, MAX_LINE, FIRST_LINE_TIMEOUT_MS)) as unknown;
      if (typeof parsed !== "object" || parsed === null) throw new Error("not a JSON object");
      request = parsed as Record<string, unknown>;
    } catch (error) {
      return reply({ type: "error", message: `bad request: ${(error as Error).message}` });
    }
    const offered = Buffer.from(typeof request.token === "string" ? request.token : "");
    if (offered.length !== expected.length || !timingSafeEqual(offered, expected))
      return reply({ type: "error", message: "wrong token" });
    if (request.type === "info")
      return reply({
        type: "info",
        name,
        target,
        pid: process.pid,
        state: handlers.state(),
        remoteDns: handlers.remoteDns?.() ?? null,
      });
    if (request.type === "dnsMode") {
      const { mode } = request;
      if (mode !== "all" && mode !== "split" && mode !== "off")
        return reply({ type: "error", message: 'mode must be "all", "split" or "off"' });
      if (handlers.dnsMode === undefined)
        return reply({
          type: "error",
          message: "this session takes its DNS mode from the window's Settings",
        });
      return handlers.dnsMode(mode).then(
        (message) => reply({ type: "done", message }),
        (error: unknown) =>
          reply({ type: "error", message: error instanceof Error ? error.message : String(error) }),
      );
    }
    if (request.type === "allowLocal") {
      const { allow } = request;
      if (typeof allow !== "boolean") return reply({ type: "error", message: "allow must be true or false" });
      if (handlers.allowLocal === undefined)
        return reply({
          type: "error",
          message: "this session takes access to this computer from the window's Settings",
        });
      return handlers.allowLocal(allow).then(
        ({ message, endedFlows }) => reply({ type: "done", message, endedFlows }),
        (error: unknown) =>
          reply({ type: "error", message: error instanceof Error ? error.message : String(error) }),
      );
    }
    if (request.type !== "diagnose") return reply({ type: "error", message: "unknown request" });
    try {
      const checked = validateRequest("diagnose:run", { host: request.host, port: request.port });
      reply({ type: "result", result: await handlers.diagnose(checked) });
    } catch (error) {
      reply({ type: "error", message: error instanceof Error ? error.message : String(error) });
    }
  }
}

function closeServer(server: Server, socketPath: string, infoPath: string): void {
  server.close();
  rmSync(socketPath, { force: true });
  rmSync(infoPath, { force: true });
}

// ---------------------------------------------------------------------------------------------
// The asking side (`backhaul diagnose`)

export interface RunningSession {
  name: string;
  target: string;
  pid: number;
  socketPath: string;
  token: string;
}

/** The sessions whose files are in `dir` and whose socket answers; the directory is checked first. */
export async function runningSessions(dir = sessionsDir()): Promise<RunningSession[]> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // no directory: no session ever ran
  }
  checkPrivateDir(dir, process.getuid?.() ?? 0);
  const found: RunningSession[] = [];
  for (const file of names.filter((n) => n.endsWith(".json"))) {
    const info = readInfo(join(dir, file));
    if (info === null) continue;
    const socketPath = join(dir, `${info.name}.sock`);
    if (await socketAccepts(socketPath)) found.push({ ...info, socketPath });
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** NAME.json, read without following a link and only when it is the user's own and private. */
function readInfo(path: string): Omit<RunningSession, "socketPath"> | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > 4096 || (stat.mode & 0o077) !== 0) return null;
    if (stat.uid !== (process.getuid?.() ?? 0)) return null;
    const value = JSON.parse(readFileSync(fd, "utf8")) as Record<string, unknown>;
    const { name, target, pid, token } = value;
    if (typeof name !== "string" || !/^[A-Za-z0-9._-]{1,50}$/.test(name)) return null;
    if (typeof target !== "string" || typeof pid !== "number" || typeof token !== "string") return null;
    return { name, target, pid, token };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Sends one request to a session and resolves with its one reply. */
export function askSession(
  session: RunningSession,
  request: SessionControlRequest,
  timeoutMs: number,
): Promise<SessionControlReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(session.socketPath);
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the session ${session.name} did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      data += chunk;
      if (data.length > 4 * MAX_LINE) socket.destroy(new Error("the session's answer is too long"));
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once("end", () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(data) as SessionControlReply);
      } catch {
        reject(new Error(`the session ${session.name} gave no answer`));
      }
    });
    socket.write(`${JSON.stringify({ token: session.token, ...request })}\n`);
  });
}
