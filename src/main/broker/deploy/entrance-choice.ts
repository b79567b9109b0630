// Which entrance the agent runs on a remote: the TUN device (root, by sudo if need be, and
// /dev/net/tun) or the proxy (SOCKS5 and HTTP on the remote's loopback: needs nothing). In
// `auto`, the TUN when it can work without a question nobody can answer, else the proxy; the
// reason is said in the connect steps.
import type { EntranceKind, EntranceMode } from "../../../shared/api.js";
import type { ProbeResult } from "./probe.js";

// Defined in the shared API, where the window's settings name them too.
export { ENTRANCE_MODES, isEntranceMode, type EntranceKind, type EntranceMode } from "../../../shared/api.js";

export interface EntranceChoice {
  kind: EntranceKind;
  /** For the connect steps: "proxy entrance: sudo needs a password and none can be asked here". */
  reason: string;
}

export function chooseEntrance(
  probe: Pick<ProbeResult, "tun" | "sudo" | "user">,
  mode: EntranceMode,
  canAskSudoPassword: boolean,
): EntranceChoice {
  if (mode === "proxy") return { kind: "proxy", reason: "asked for with --entrance proxy" };
  if (mode === "tun") return { kind: "tun", reason: "asked for with --entrance tun" };
  if (!probe.tun) return { kind: "proxy", reason: "the remote has no /dev/net/tun" };
  switch (probe.sudo) {
    case "root":
      return { kind: "tun", reason: `${probe.user} is root` };
    case "ok":
      return { kind: "tun", reason: "sudo works without a password" };
    case "missing":
      return { kind: "proxy", reason: `${probe.user} is not root and the remote has no sudo` };
    case "password":
      return canAskSudoPassword
        ? { kind: "tun", reason: "sudo needs a password, which is asked for" }
        : { kind: "proxy", reason: "sudo needs a password and none can be asked here" };
  }
}

/** The line the connect steps show. */
export function describeEntrance(choice: EntranceChoice): string {
  return `${choice.kind === "tun" ? "TUN entrance" : "proxy entrance"}: ${choice.reason}`;
}
