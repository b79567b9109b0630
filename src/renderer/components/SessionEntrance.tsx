/** Which entrance the connected session runs and, for the proxy, what to run on the remote to use it. */
import { PROXY_ENV_HINT, type SessionView } from "../../shared/api.js";

export function SessionEntrance({ entrance }: { entrance: SessionView["entrance"] }) {
  if (entrance === null) return <span data-testid="session-entrance">–</span>;
  if (entrance === "tun")
    return (
      <span data-testid="session-entrance" data-entrance="tun">
        TUN entrance: every program on the remote
      </span>
    );
  return (
    <span data-testid="session-entrance" data-entrance="proxy">
      Proxy entrance: programs that use proxy settings. In a shell on the remote, run{" "}
      <code data-testid="proxy-env-hint">{PROXY_ENV_HINT}</code> to use it (curl, git, pip…).
    </span>
  );
}
