// The TUN device and its Linux interface configuration.
export { openTun } from "./open-tun.js";
export { LinuxTunDevice, openLinuxTun } from "./linux-tun.js";
export { LinuxInterface, execFileRunner, type CommandRunner } from "./linux-interface.js";
export {
  checkTunMtu,
  MAX_TUN_MTU,
  MIN_TUN_MTU,
  type PacketBatchListener,
  type TunDevice,
  type TunErrorListener,
  type TunOpenOptions,
  type TunStats,
} from "./tun-device.js";
