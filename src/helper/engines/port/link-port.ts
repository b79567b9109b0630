import type { Link } from "../link/link.js";
import { LinkRoom } from "../link-room.js";
import type { PacketFill, PacketPort } from "./packet-port.js";

/** One kind of a link's packet frames: how to send them and the event that delivers them. */
export interface LinkPacketFrames {
  send(packet: Buffer): void;
  sendAll(packets: readonly Buffer[]): void;
  sendWith(length: number, fill: PacketFill): void;
  event: "packets" | "reversePackets";
}

/**
 * A link's PACKETS frames as a port. Outbound packets are copied into the link's batch at once;
 * inbound batches are views into the received frame. `writable` is the link's room below LINK_HIGH_WATER_BYTES, not the stream's own flag.
 */
export function linkPort(link: Link): PacketPort {
  return linkFramesPort(link, {
    send: (packet) => link.sendPacket(packet),
    sendAll: (packets) => link.sendPackets(packets),
    sendWith: (length, fill) => link.sendPacketWith(length, fill),
    event: "packets",
  });
}

/**
 * One kind of a link's packet frames as a port (linkPort's, reverseLinkPort's): the room is the
 * link's, shared by both kinds, and so is pausing, since one stream carries both directions.
 */
export function linkFramesPort(link: Link, frames: LinkPacketFrames): PacketPort {
  const room = new LinkRoom(link);
  return {
    send: (packet) => {
      frames.send(packet);
    },
    sendAll: (packets) => {
      frames.sendAll(packets);
    },
    sendWith: (length, fill) => {
      frames.sendWith(length, fill);
    },
    get writable() {
      return room.available;
    },
    onDrain: (listener) => room.onRoom(listener),
    onPackets: (handler) => {
      link.on(frames.event, handler);
      return () => {
        link.off(frames.event, handler);
      };
    },
    // One stream carries both directions: pausing one pauses the link's reading altogether.
    pause: () => link.pause(),
    resume: () => link.resume(),
  };
}
