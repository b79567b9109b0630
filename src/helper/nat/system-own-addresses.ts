/** Which reader of this computer's addresses runs here (see own-addresses.ts). */
import { execFile } from "node:child_process";
import { readLinuxOwnAddresses } from "./own-addresses-linux.js";
import { MACOS_IFCONFIG, parseMacosIfconfig } from "./own-addresses-macos.js";
import { parseWindowsRoutePrint, WINDOWS_ROUTE_PRINT } from "./own-addresses-windows.js";
import {
  interfaceAddresses,
  joinOwnAddresses,
  NO_OWN_ADDRESSES,
  type OwnAddresses,
} from "./own-addresses.js";

/** Reading a command's output costs a process: at most this often, in the background. */
const COMMAND_REFRESH_MS = 5_000;
const COMMAND_TIMEOUT_MS = 5_000;

/**
 * A reader of this computer's addresses for `platform`, synchronous and cheap enough to call on a
 * new flow (the policy caches it briefly). Linux reads /proc files; macOS and Windows run a command
 * in the background and use its last answer, joined with os.networkInterfaces() meanwhile.
 */
export function systemOwnAddresses(platform: NodeJS.Platform = process.platform): () => OwnAddresses {
  if (platform === "linux") return () => joinOwnAddresses(readLinuxOwnAddresses(), interfaceAddresses());
  const command =
    platform === "darwin"
      ? { ...MACOS_IFCONFIG, parse: parseMacosIfconfig }
      : platform === "win32"
        ? { ...WINDOWS_ROUTE_PRINT, parse: parseWindowsRoutePrint }
        : undefined;
  if (!command) return interfaceAddresses;
  let last = NO_OWN_ADDRESSES;
  let readAt = -Infinity;
  let running = false;
  const refresh = (): void => {
    if (running || Date.now() - readAt < COMMAND_REFRESH_MS) return;
    running = true;
    execFile(
      command.file,
      command.args,
      { timeout: COMMAND_TIMEOUT_MS, windowsHide: true, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout) => {
        running = false;
        readAt = Date.now();
        if (!error) last = command.parse(stdout);
      },
    );
  };
  refresh();
  return () => {
    refresh();
    return joinOwnAddresses(last, interfaceAddresses());
  };
}
