// The DNS engine (exit side): answers the remote's queries the way this computer resolves.
export {
  DNS_CONFIG_REFRESH_MS,
  DnsEngine,
  type DnsConfigSource,
  type DnsEngineOptions,
  type ResolverSource,
} from "./engine.js";
export {
  describeDnsConfig,
  fixedDnsConfig,
  osDnsDomains,
  type OsDnsConfig,
  type OsResolver,
} from "./os-config/os-dns-config.js";
export { chooseResolvers, type ResolverChoice } from "./os-config/choose-resolvers.js";
export { readOsDnsConfig, type OsDnsSources, type RunProgram } from "./os-config/system-os-dns.js";
export { DnsTable, type DnsTableOptions, type NewDnsRow } from "./dns-table.js";
export { newDnsCounters, type DnsCounters } from "./dns-counters.js";
export {
  startDnsTcpServer,
  type DnsQueryHandler,
  type DnsTcpServer,
  type DnsTcpServerOptions,
} from "./tcp-server.js";
export {
  DNS_STREAM_IDLE_MS,
  DNS_STREAM_LIMITS,
  DnsStreamSession,
  type DnsStream,
  type DnsStreamLimits,
} from "./stream-session.js";
export { parseResolvConf, readSystemResolvers, type SystemResolverSources } from "./resolv-conf.js";
export {
  describeUpstream,
  networkExchange,
  UpstreamError,
  type Upstream,
  type UpstreamExchange,
} from "./upstream.js";
export { systemLookup, type AddressLookup, type LookupAddress } from "./os-lookup.js";
export type { ForwarderTimeouts } from "./forwarder.js";
