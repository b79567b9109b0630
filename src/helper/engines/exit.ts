import type { NatEngine } from "./nat/engine.js";
import type { PacketPort } from "./port/packet-port.js";

/** The exit role's data path: every batch from the port goes to the NAT engine. */
export function attachNatEngine(port: PacketPort, engine: NatEngine): () => void {
  return port.onPackets((packets) => engine.handlePackets(packets));
}
