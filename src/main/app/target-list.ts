/** What the target picker lists: the broker's SSH hosts, codespaces and saved exec: commands, and the sandbox. */
import type { TargetList, TargetSummary } from "../../shared/api.js";
import type { CodespaceTarget, ExecTarget, SshTarget, TargetListing } from "../broker/targets/index.js";
import { SANDBOX_LABEL, SANDBOX_TARGET_ID } from "./sandbox-target.js";

export function targetList(
  listing: TargetListing,
  options: { sandbox: boolean; recents: string[]; lastUsedAt(id: string): number | null },
): TargetList {
  const targets: TargetSummary[] = [
    ...listing.codespaces.map(codespaceSummary),
    ...listing.ssh.map(sshSummary),
    ...listing.exec.map(execSummary),
    ...(options.sandbox ? [sandboxSummary()] : []),
  ].map((target) => ({ ...target, lastUsedAt: options.lastUsedAt(target.id) }));
  return { targets, recents: options.recents, warnings: listing.warnings };
}

export function codespaceSummary(codespace: CodespaceTarget): TargetSummary {
  return {
    id: `codespace:${codespace.name}`,
    kind: "codespace",
    label: codespace.displayName,
    detail: codespace.repository,
    codespace: {
      name: codespace.name,
      repository: codespace.repository,
      branch: codespace.branch,
      state: codespace.state,
      machine: codespace.machine,
    },
    lastUsedAt: null,
  };
}

export function sshSummary(host: SshTarget): TargetSummary {
  const user = host.user ? `${host.user}@` : "";
  return {
    id: host.label,
    kind: "ssh",
    label: host.label,
    detail: `${user}${host.host.includes(":") ? `[${host.host}]` : host.host}:${host.port}`,
    codespace: null,
    lastUsedAt: null,
  };
}

export function execSummary(target: ExecTarget): TargetSummary {
  return {
    id: target.spec,
    kind: "exec",
    label: target.label,
    detail: target.command,
    codespace: null,
    lastUsedAt: null,
  };
}

export function sandboxSummary(): TargetSummary {
  return {
    id: SANDBOX_TARGET_ID,
    kind: "sandbox",
    label: SANDBOX_LABEL,
    detail: "a throwaway network namespace on this computer plays the remote",
    codespace: null,
    lastUsedAt: null,
  };
}
