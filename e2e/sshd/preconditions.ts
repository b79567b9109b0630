// Why the SSH suite cannot run here (as a sentence for `skip`), or undefined when it can.
import { existsSync } from "node:fs";
import { findOnPath, netnsSkipReason } from "../netns/index.js";

export const SSH_TOOL_PACKAGES: readonly [command: string, debianPackage: string][] = [
  ["ssh", "openssh-client"],
  ["ssh-keygen", "openssh-client"],
  ["ssh-agent", "openssh-client"],
  ["ssh-add", "openssh-client"],
  ["sudo", "sudo"],
  ["unshare", "util-linux"],
  ["nc", "netcat-openbsd"],
];

export function sshdSkipReason(): string | undefined {
  const netns = netnsSkipReason({ tools: ["ip", "sysctl"] });
  if (netns) return netns;
  if (!existsSync("/usr/sbin/sshd")) return "/usr/sbin/sshd is not installed (Debian package openssh-server)";
  for (const [command, debianPackage] of SSH_TOOL_PACKAGES) {
    if (!findOnPath(command)) return `\`${command}\` is not installed (Debian package ${debianPackage})`;
  }
  if (!existsSync("/etc/sudoers")) return "/etc/sudoers is missing (Debian package sudo)";
  return undefined;
}
