import type { Link } from "./link/link.js";
import { LinkRoom } from "./link-room.js";
import type { PacketOutput } from "./nat/packet-output.js";

/** The NAT engine's packets go out on the link, batched per event-loop turn by the link. */
export function linkPacketOutput(link: Link): PacketOutput {
  const room = new LinkRoom(link);
  return {
    send: (packet) => {
      link.sendPacket(packet);
    },
    sendWith: (length, fill) => {
      link.sendPacketWith(length, fill);
    },
    get writable() {
      return room.available;
    },
    onDrain: (listener) => room.onRoom(listener),
  };
}
