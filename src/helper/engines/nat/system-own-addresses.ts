/** Which reader of this computer's addresses runs here (see own-addresses.ts). */
import { runCommand } from "../run-command.js";
import { readLinuxOwnAddresses, readLinuxOwnAddressesAsync } from "./own-addresses-linux.js";
import { MACOS_IFCONFIG, parseMacosIfconfig } from "./own-addresses-macos.js";
import { parseWindowsRoutePrint, WINDOWS_ROUTE_PRINT } from "./own-addresses-windows.js";
import {
  interfaceAddresses,
  joinOwnAddresses,
  NO_OWN_ADDRESSES,
  type OwnAddresses,
} from "./own-addresses.js";

/** How stale the kernel's view may get: files are cheap to read again, a command costs a process. */
const FILE_REFRESH_MS = 1_000;
const COMMAND_REFRESH_MS = 5_000;
const COMMAND_TIMEOUT_MS = 5_000;

/**
 * A reader of this computer's addresses for `platform`, synchronous and cheap enough to call on a
 * new flow. The OS's own view is refreshed in the background (Linux: /proc files read on the
 * thread pool; macOS and Windows: a command) and its last answer joined with
 * os.networkInterfaces(), which is current. Linux reads its files once, blocking, at the start.
 */
export function systemOwnAddresses(platform: NodeJS.Platform = process.platform): () => OwnAddresses {
  switch (platform) {
    case "linux":
      return backgroundReader(FILE_REFRESH_MS, readLinuxOwnAddressesAsync, readLinuxOwnAddresses());
    case "darwin":
      return backgroundReader(COMMAND_REFRESH_MS, () => runAndParse(MACOS_IFCONFIG, parseMacosIfconfig));
    case "win32":
      return backgroundReader(COMMAND_REFRESH_MS, () =>
        runAndParse(WINDOWS_ROUTE_PRINT, parseWindowsRoutePrint),
      );
    default:
      return interfaceAddresses;
  }
}

function backgroundReader(
  refreshMs: number,
  read: () => Promise<OwnAddresses>,
  initial: OwnAddresses = NO_OWN_ADDRESSES,
): () => OwnAddresses {
  let last = initial;
  let readAt = initial === NO_OWN_ADDRESSES ? -Infinity : Date.now();
  let running = false;
  const refresh = (): void => {
    if (running || Date.now() - readAt < refreshMs) return;
    running = true;
    read().then(
      (addresses) => {
        last = addresses;
        running = false;
        readAt = Date.now();
      },
      () => {
        running = false;
        readAt = Date.now(); // keep the last answer; try again after the interval
      },
    );
  };
  refresh();
  return () => {
    refresh();
    return joinOwnAddresses(last, interfaceAddresses());
  };
}

async function runAndParse(
  command: { file: string; args: readonly string[] },
  parse: (output: string) => OwnAddresses,
): Promise<OwnAddresses> {
  const options = { timeoutMs: COMMAND_TIMEOUT_MS, maxOutputBytes: 4 * 1024 * 1024 };
  return parse((await runCommand(command.file, command.args, options)).stdout);
}
