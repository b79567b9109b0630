import type { IcmpView, IpView } from "../packet/index.js";

/** ICMP echo towards destinations; implemented per platform (see the icmp/ folder). */
export interface IcmpForwarder {
  handle(ip: IpView, icmp: IcmpView): void;
  readonly flowCount: number;
  /** Ends the flows to an address `matches` (access to this computer was switched off); how many. */
  endFlowsTo(matches: (address: Uint8Array) => boolean, reason: string): number;
  close(reason: string): void;
}
