import type { PacketPort } from "./port/packet-port.js";

/**
 * The entrance role's data path: packets the kernel routes into the TUN device go onto the
 * link, packets from the link go to the kernel. When the link is full, the TUN reader pauses
 * and the kernel's queue absorbs (then drops) as a NIC's would; TCP end to end recovers.
 * Batches pass between the ports as they are: each port copies at once (see PacketPort).
 */
export function pumpTunAndLink(tun: PacketPort, link: PacketPort): () => void {
  let paused = false;
  const stopTun = tun.onPackets((packets) => {
    link.sendAll(packets);
    if (!link.writable) {
      paused = true;
      tun.pause();
    }
  });
  link.onDrain(() => {
    if (!paused) return;
    paused = false;
    tun.resume();
  });
  const stopLink = link.onPackets((packets) => tun.sendAll(packets));
  return () => {
    stopTun();
    stopLink();
  };
}
