import type { TunDevice } from "./index.js";
import type { PacketPort } from "../../engines/port/packet-port.js";

/**
 * A TUN device as a port. Sent packets are copied into the kernel at once; a full TUN queue drops
 * and counts (TunStats.writeDrops) as a NIC would, so the port is always writable. Inbound batches
 * share the device's read buffers: lent for the handler's call only.
 */
export function tunPort(tun: TunDevice): PacketPort {
  const one: Buffer[] = [];
  const sendOne = (packet: Buffer): void => {
    one[0] = packet;
    tun.write(one);
    one.length = 0;
  };
  return {
    send: sendOne,
    sendAll: (packets) => {
      tun.write(packets);
    },
    sendWith: (length, fill) => {
      const packet = Buffer.allocUnsafe(length);
      fill(packet, 0);
      sendOne(packet);
    },
    writable: true,
    onDrain: () => undefined,
    onPackets: (handler) => {
      tun.onPackets(handler);
      return () => tun.onPackets(() => undefined);
    },
    pause: () => tun.pause(),
    resume: () => tun.resume(),
  };
}
