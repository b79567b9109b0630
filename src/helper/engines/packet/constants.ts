/** IANA protocol numbers Backhaul reasons about (the IPv4 protocol / IPv6 next header field). */
export const IpProtocol = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
  /** IPv6 "No Next Header" (RFC 8200 §4.7): nothing follows, nothing to deliver. */
  IPV6_NO_NEXT_HEADER: 59,
} as const;

/** TCP header flag bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export const Icmpv4Type = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
} as const;

/** ICMPv4 destination-unreachable codes (RFC 792, RFC 1812). */
export const Icmpv4UnreachableCode = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  ADMIN_PROHIBITED: 13,
} as const;

export const Icmpv6Type = {
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
} as const;

/** ICMPv6 destination-unreachable codes (RFC 4443 §3.1). */
export const Icmpv6UnreachableCode = {
  NO_ROUTE: 0,
  ADMIN_PROHIBITED: 1,
  ADDRESS: 3,
  PORT: 4,
} as const;

/** ICMPv6 parameter-problem codes (RFC 4443 §3.4); the rest of the header is a pointer. */
export const Icmpv6ParameterProblemCode = {
  ERRONEOUS_HEADER_FIELD: 0,
  UNRECOGNIZED_NEXT_HEADER: 1,
  UNRECOGNIZED_OPTION: 2,
} as const;

export const IPV4_HEADER_LENGTH = 20;
export const IPV6_HEADER_LENGTH = 40;
export const TCP_HEADER_LENGTH = 20;
export const UDP_HEADER_LENGTH = 8;
export const ICMP_HEADER_LENGTH = 8;
