// For tests only (no shipped module imports it): a split session's remote DNS as main keeps it.
import type { RemoteDnsStatus } from "./remote-dns-status.js";

/** Split DNS over the native relay: 12 names through this computer, 340 to the remote's resolver. */
export const SPLIT_REMOTE_DNS = {
  mode: "split",
  setup: "resolv-conf-forwarder-native",
  viaLink: 12,
  viaRemote: 340,
  unanswered: 0,
  refused: 0,
  overloaded: 0,
} as const satisfies RemoteDnsStatus;
