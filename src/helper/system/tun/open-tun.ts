// The one place that picks a TUN implementation per OS. macOS (utun, via a PF_SYSTEM socket) and
// Windows (Wintun) would be added here as further TunDevice implementations; only Linux, where the
// remote agent runs, exists today.
import { openLinuxTun } from "./linux-tun.js";
import type { TunDevice, TunOpenOptions } from "./tun-device.js";

export async function openTun(options: TunOpenOptions): Promise<TunDevice> {
  switch (process.platform) {
    case "linux":
      return openLinuxTun(options);
    case "darwin":
      throw new Error("TUN devices are not supported on macOS yet (utun is planned behind TunDevice)");
    case "win32":
      throw new Error("TUN devices are not supported on Windows yet (Wintun is planned behind TunDevice)");
    default:
      throw new Error(`TUN devices are not supported on ${process.platform}`);
  }
}
