import type { Link } from "../link/link.js";
import { linkFramesPort } from "./link-port.js";
import type { PacketPort } from "./packet-port.js";

/**
 * A link's REVERSE_PACKETS frames as a port (link protocol revision 2): on this computer, the
 * packets from its TUN to the agent's exit and back (`--remote-route`); on the agent, its exit's
 * side of the same packets. Ownership and room as linkPort's: outbound packets are copied into
 * the link's batch at once, inbound batches are views into the received frame. Packets sent to a
 * peer without Capability.Reverse are dropped and counted (Link.sendReversePackets).
 */
export function reverseLinkPort(link: Link): PacketPort {
  return linkFramesPort(link, {
    send: (packet) => link.sendReversePackets([packet]),
    sendAll: (packets) => link.sendReversePackets(packets),
    sendWith: (length, fill) => link.sendReversePacketWith(length, fill),
    event: "reversePackets",
  });
}
