// What every proxy connection is served with, and the counters it reports into.
import type { StreamOpener } from "../../../shared/link-streams.js";
import type { ProxyCredentials } from "./credentials.js";
import type { UdpRelay } from "./udp-relay.js";

export interface ProxyCounters {
  accepted: number;
  /** Refused at once: the concurrent connection cap was reached. */
  overCap: number;
  handshakeTimeouts: number;
  /** Closed during the handshake by the client. */
  handshakeAbandoned: number;
  /** Malformed or unsupported greetings, requests or heads (answered per RFC or closed). */
  badRequests: number;
  authRefused: number;
  streamsOpened: number;
  openFailed: number;
  udpAssociations: number;
}

export function newCounters(): ProxyCounters {
  return {
    accepted: 0,
    overCap: 0,
    handshakeTimeouts: 0,
    handshakeAbandoned: 0,
    badRequests: 0,
    authRefused: 0,
    streamsOpened: 0,
    openFailed: 0,
    udpAssociations: 0,
  };
}

export interface ProxyContext {
  readonly credentials: ProxyCredentials;
  /**
   * Whether the OS says the client is the user this proxy serves (ProxyServerOptions.isOwner): such
   * a client needs no credentials. Asked only of a client that offers none (a
   * kernel lookup: loopback-peer.ts), at most once per connection.
   */
  ownerClient(): Promise<boolean>;
  readonly opener: StreamOpener;
  /** Null when UDP cannot be carried (no packet path): UDP ASSOCIATE is answered "not supported". */
  readonly udp: UdpRelay | null;
  readonly counters: ProxyCounters;
  /** The handshake is over: the connection's timeout no longer applies. */
  handshakeDone(): void;
}
