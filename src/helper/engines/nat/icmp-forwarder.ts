import type { IcmpView, IpView } from "../packet/index.js";

/** ICMP echo towards destinations; implemented per platform (see the icmp/ folder). */
export interface IcmpForwarder {
  handle(ip: IpView, icmp: IcmpView): void;
  readonly flowCount: number;
  close(reason: string): void;
}
