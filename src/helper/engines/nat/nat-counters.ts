/** Engine-wide counters: what was dropped or refused and why. Shown in stats, never thrown. */
export interface NatCounters {
  packetsIn: number;
  malformed: number;
  badChecksum: number;
  fragments: number;
  /** Packets whose source is no single host (unspecified, multicast, broadcast, 240/4). */
  badSource: number;
  unsupportedProtocol: number;
  refused: number;
  tcpStraySegments: number;
  tcpOverLimit: number;
  tcpSynDropped: number;
  udpOverLimit: number;
  udpSendDropped: number;
  icmpOverLimit: number;
  icmpUnsupported: number;
  /**
   * Bugs contained: a packet whose handling threw something other than a PacketError, or a socket
   * callback that threw. The packet is dropped and the exit goes on; it should stay 0.
   */
  internalErrors: number;
}

export function newNatCounters(): NatCounters {
  return {
    packetsIn: 0,
    malformed: 0,
    badChecksum: 0,
    fragments: 0,
    badSource: 0,
    unsupportedProtocol: 0,
    refused: 0,
    tcpStraySegments: 0,
    tcpOverLimit: 0,
    tcpSynDropped: 0,
    udpOverLimit: 0,
    udpSendDropped: 0,
    icmpOverLimit: 0,
    icmpUnsupported: 0,
    internalErrors: 0,
  };
}
