// What every measured path hands the measuring code: where clients run, whom they reach, and
// which processes do the forwarding work.
import type { NetworkNamespace } from "../../netns/index.js";
import type { Family, PathName } from "./options.js";

export interface ForwardingProcess {
  pid: number;
  /** Shown in the report, e.g. "slirp4netns" or "exit (NAT engine)". */
  label: string;
}

export interface BenchPath {
  name: PathName;
  mtu: number;
  /** R: iperf3 and the latency client run here. */
  remote: NetworkNamespace;
  /** S's address for each family this path carries. */
  hosts: Partial<Record<Family, string>>;
  /** The userspace processes doing the NAT; none for kernel forwarding. */
  exit?: ForwardingProcess;
  entrance?: ForwardingProcess;
  /** Why a family is not measured on this path, e.g. slirp4netns's fixed IPv6 prefix. */
  skipped: Partial<Record<Family, string>>;
  cleanup(): Promise<void>;
}
