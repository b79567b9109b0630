/**
 * Packet views and builders for IPv4, IPv6, TCP, UDP and ICMP(v6).
 *
 * Views (smoltcp's `Packet` idea) validate lengths once in `parse` and read the Buffer in place;
 * they throw only PacketError. Builders write whole packets with correct checksums.
 *
 * Not implemented: IP fragment reassembly, IPv6 jumbograms, IPv4 options beyond skipping them,
 * TCP options other than MSS, window scale, SACK-permitted, SACK and timestamps (others are
 * skipped by length).
 */
export * from "./address.js";
export * from "./build.js";
export * from "./checksum.js";
export * from "./constants.js";
export * from "./errors.js";
export * from "./icmp.js";
export * from "./ip.js";
export * from "./ipv4.js";
export * from "./ipv6.js";
export * from "./tcp.js";
export * from "./udp.js";
