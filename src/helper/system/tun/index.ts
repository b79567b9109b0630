// The TUN device and its Linux interface configuration.
export { openTun } from "./open-tun.js";
export { LinuxTunDevice, openLinuxTun } from "./linux-tun.js";
export { LinuxInterface, execFileRunner, type CommandRunner } from "./linux-interface.js";
export * from "./tun-device.js";
