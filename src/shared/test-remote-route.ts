// For tests only (no shipped module imports it): the remote's route to 198.19.1.10 when it is on
// 198.19.1.0/24 itself, which the tunnel's 198.19.0.0/16 therefore skips.
import type { RemoteDiagnosis } from "./diagnose-frames.js";

/** The remote on the prefix itself, through its own `dev`: the tunnel's /24 was skipped as an overlap. */
export function insideRemoteNetworkRoute(dev: string): NonNullable<RemoteDiagnosis["route"]> {
  return {
    viaTunnel: false,
    dev,
    gateway: null,
    tunnelPrefix: "198.19.0.0/16",
    skipped: {
      prefix: "198.19.1.0/24",
      reason: "inside-remote-network",
      message: "198.19.1.0/24 is not routed: it lies inside 198.19.1.0/24",
    },
    ownRoute: {
      prefix: "198.19.1.0/24",
      dev,
      kind: "connected",
      description: `198.19.1.0/24 dev ${dev}`,
    },
    error: null,
  };
}
