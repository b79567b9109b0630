/**
 * Says when this computer's routes or addresses change, from the OS's own monitor, so a VPN
 * coming up is seen at once instead of at the next poll.
 *
 * Why not only poll: reading the routes spawns a process (`ip`, `netstat`), and spawning from a
 * process as large as main blocks its event loop while it forks (7–10 ms measured on this
 * project's CI machine) — a stall for every packet main relays, every few seconds. One monitor
 * process for the whole session costs one spawn.
 *   Linux: `ip monitor route address` (netlink).  macOS: `route -n monitor` (routing socket).
 *   Windows: none; the watch keeps polling.
 * The monitor runs under `sh`, which reads its stdin: when main goes away, even by SIGKILL, the
 * pipe closes and sh stops the monitor, so no process is left behind.
 */
import { spawn } from "node:child_process";
import type { Socket } from "node:net";
import { shellCommand } from "./deploy/shell-quote.js";

export interface MonitorCommand {
  file: string;
  args: string[];
  /** Least time between two reads it causes (RouteWatch's minGapMs), when it is chatty. */
  minGapMs?: number;
}

export function routeMonitorCommand(platform: NodeJS.Platform = process.platform): MonitorCommand | null {
  if (platform === "linux") return { file: "ip", args: ["monitor", "route", "address"] };
  // The routing socket also reports ARP and neighbour entries coming and going: on a busy LAN,
  // many messages a second that change nothing we advertise.
  if (platform === "darwin") return { file: "route", args: ["-n", "monitor"], minGapMs: 2_000 };
  return null;
}

export interface RouteEvents {
  /** Stops the monitor (idempotent). */
  stop(): void;
}

/**
 * Starts `command` and calls `onChange` whenever it prints; `onLost` once if it cannot start or
 * exits before stop() (the caller then polls faster).
 */
export function watchRouteEvents(
  command: MonitorCommand,
  onChange: () => void,
  onLost: (why: string) => void,
): RouteEvents {
  // The reader gets the pipe through fd 3: a background list's own stdin is /dev/null. sh exits
  // with the monitor, whatever ends it.
  const script = [
    "exec 3<&0",
    `${shellCommand([command.file, ...command.args])} </dev/null & m=$!`,
    `{ read -r _ <&3; kill "$m" 2>/dev/null; } &`,
    `wait "$m"`,
  ].join("\n");
  const child = spawn("sh", ["-c", script], { stdio: ["pipe", "pipe", "ignore"] });
  let stopped = false;
  let lost = false;
  const lose = (why: string): void => {
    if (stopped || lost) return;
    lost = true;
    child.stdin.end(); // lets the reader go too
    onLost(why);
  };
  child.stdout.on("data", () => {
    if (!stopped) onChange();
  });
  child.on("error", (error) => lose(`the route monitor could not start: ${error.message}`));
  child.on("exit", (code, signal) => lose(`the route monitor exited (${signal ?? `code ${code}`})`));
  // A closed stdin is how sh learns to stop; EPIPE after it exited is expected.
  child.stdin.on("error", () => undefined);
  // Like the poll's timer, the monitor never keeps this process alive; when it exits, the pipe
  // closes and the monitor goes with it.
  child.unref();
  for (const pipe of [child.stdin, child.stdout]) (pipe as Socket).unref();
  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      child.stdin.end();
      child.stdout.destroy();
    },
  };
}
