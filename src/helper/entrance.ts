import type { Link } from "./link/link.js";
import { LinkRoom } from "./link-room.js";
import type { TunDevice } from "./tun/index.js";

/**
 * The entrance role's data path: packets the kernel routes into the TUN device go onto the
 * link, packets from the link go to the kernel. When the link is full, the TUN reader pauses
 * and the kernel's queue absorbs (then drops) as a NIC's would; TCP end to end recovers.
 */
export function pumpTunAndLink(tun: TunDevice, link: Link): () => void {
  const room = new LinkRoom(link);
  let paused = false;
  tun.onPackets((packets) => {
    link.sendPackets(packets);
    if (!room.available) {
      paused = true;
      tun.pause();
    }
  });
  room.onRoom(() => {
    if (!paused) return;
    paused = false;
    tun.resume();
  });
  // Packets are views into the link's frame; the TUN write copies them into the kernel at once.
  const onPackets = (packets: Buffer[]): void => {
    tun.write(packets);
  };
  link.on("packets", onPackets);
  return () => {
    link.off("packets", onPackets);
  };
}
