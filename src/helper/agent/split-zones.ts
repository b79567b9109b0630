// Split DNS on the remote sends the reverse zones of the advertised prefixes through the link (a PTR
// for an address reached through it is this computer's to answer). A prefix the agent did not route
// (the remote is on that network itself, or has its own route for it) is reached the remote's own
// way, so its PTRs stay with the remote's resolver too: its zones leave the split.
import type { LinkDnsConfig } from "../../shared/link-protocol.js";
import { reverseZones } from "../engines/dns/reverse-zones.js";
import type { RoutePlan } from "./routes.js";

/** `dns` without the reverse zones of the prefixes `plan` skipped; other modes as they are. */
export function withoutSkippedZones<T extends LinkDnsConfig>(dns: T, plan: RoutePlan | null): T {
  if (dns.mode !== "split" || plan === null || plan.skip.length === 0) return dns;
  const skipped = new Set(reverseZones(plan.skip.map((skip) => skip.prefix)));
  return { ...dns, domains: dns.domains.filter((domain) => !skipped.has(domain)) };
}
