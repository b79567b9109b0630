import type { Link } from "../link/link.js";
import { LinkRoom } from "../link-room.js";
import type { PacketPort } from "./packet-port.js";

/**
 * A link's PACKETS frames as a port. Outbound packets are copied into the link's batch at once;
 * inbound batches are views into the received frame. `writable` is the link's room below LINK_HIGH_WATER_BYTES, not the stream's own flag.
 */
export function linkPort(link: Link): PacketPort {
  const room = new LinkRoom(link);
  return {
    send: (packet) => {
      link.sendPacket(packet);
    },
    sendAll: (packets) => {
      link.sendPackets(packets);
    },
    sendWith: (length, fill) => {
      link.sendPacketWith(length, fill);
    },
    get writable() {
      return room.available;
    },
    onDrain: (listener) => room.onRoom(listener),
    onPackets: (handler) => {
      link.on("packets", handler);
      return () => {
        link.off("packets", handler);
      };
    },
    pause: () => link.pause(),
    resume: () => link.resume(),
  };
}
