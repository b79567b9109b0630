import type { Link } from "../link/link.js";
import { LinkRoom } from "../link-room.js";
import type { PacketPort } from "./packet-port.js";

/**
 * A link's REVERSE_PACKETS frames as a port (link protocol revision 2): on this computer, the
 * packets from its TUN to the agent's exit and back (`--remote-route`); on the agent, its exit's
 * side of the same packets. Ownership and room as linkPort's: outbound packets are copied into
 * the link's batch at once, inbound batches are views into the received frame. Packets sent to a
 * peer without Capability.Reverse are dropped and counted (Link.sendReversePackets).
 */
export function reverseLinkPort(link: Link): PacketPort {
  const room = new LinkRoom(link);
  return {
    send: (packet) => {
      link.sendReversePackets([packet]);
    },
    sendAll: (packets) => {
      link.sendReversePackets(packets);
    },
    sendWith: (length, fill) => {
      link.sendReversePacketWith(length, fill);
    },
    get writable() {
      return room.available;
    },
    onDrain: (listener) => room.onRoom(listener),
    onPackets: (handler) => {
      link.on("reversePackets", handler);
      return () => {
        link.off("reversePackets", handler);
      };
    },
    // One stream carries both directions: pausing one pauses the link's reading altogether.
    pause: () => link.pause(),
    resume: () => link.resume(),
  };
}
