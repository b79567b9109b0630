/**
 * One line above the DNS table: the remote's DNS mode and, in split mode, where its names went.
 * The table lists only names that came through this computer; the line says whether the remote's
 * other lookups (its own resolver's) work, or fail.
 */
import { DNS_SETUP_LABELS, type RemoteDnsStatus } from "../../shared/remote-dns-status.js";

const FAILURES = ["unanswered", "refused", "overloaded"] as const;

export function RemoteDnsLine({ status }: { status: RemoteDnsStatus | null }) {
  if (status === null) return null;
  const title = status.setup === null ? undefined : `On the remote: ${DNS_SETUP_LABELS[status.setup]}`;
  return (
    <p className="remote-dns-line" data-testid="remote-dns" data-mode={status.mode} title={title}>
      {lineText(status)}
      {FAILURES.map((name) => {
        const count = status[name] ?? 0;
        return count > 0 ? (
          <span key={name} className="remote-dns-failure" data-testid={`remote-dns-${name}`}>
            {" · "}
            {count.toLocaleString()} {name}
          </span>
        ) : null;
      })}
    </p>
  );
}

function lineText(status: RemoteDnsStatus): string {
  if (status.mode === "off") return "DNS off: the remote resolves every name itself.";
  if (status.mode === "all") return "All DNS: every name the remote looks up comes through this computer.";
  if (status.setup === "systemd-resolved")
    return "Split DNS: systemd-resolved on the remote routes names per link, so only names through this computer are counted (below).";
  if (status.viaLink === undefined || status.viaRemote === undefined)
    return "Split DNS: names under this computer's domains come here, the rest stay with the remote's resolver.";
  return `Split DNS: ${status.viaLink.toLocaleString()} via this computer · ${status.viaRemote.toLocaleString()} via the remote's resolver`;
}
