import type { Link } from "./link/link.js";
import type { NatEngine } from "./nat/engine.js";

/** The exit role's data path: every packet from the link goes to the NAT engine, in batches. */
export function attachNatEngine(link: Link, engine: NatEngine): () => void {
  const onPackets = (packets: Buffer[]): void => engine.handlePackets(packets);
  const onClose = (): void => engine.close("link closed");
  link.on("packets", onPackets);
  link.once("close", onClose);
  return () => {
    link.off("packets", onPackets);
    link.off("close", onClose);
  };
}
