// What e2e/icmp.test.ts asks of e2e/icmp/child.ts ("run", over e2e/netns/child-rpc.ts) and what
// it answers.

export interface EchoRequestSpec {
  src: string;
  dst: string;
  identifier: number;
  sequence: number;
  payloadHex: string;
}

export interface ChildRequest {
  /** "socket": LinuxIcmpForwarder over the addon; "create": whatever createIcmpForwarder picks. */
  forwarder: "socket" | "create";
  /** For "socket": how the addon opens its sockets. */
  socketMode?: "auto" | "datagram" | "raw";
  prefixes: string[];
  requests: EchoRequestSpec[];
  /** How many packets to wait for on the output before closing. */
  expectPackets: number;
  timeoutMs: number;
}

/** The addon's answer to opening one socket in the requested mode. */
export type ProbeResult = { mode: string; identifier: number | null } | { code: string; message: string };

export interface ChildReport {
  forwarder: string;
  probes: { 4: ProbeResult; 6: ProbeResult };
  modes: { 4?: string; 6?: string };
  /** Packets written to the output (towards the remote), base64. */
  packets: string[];
  counters: Record<string, number>;
  rows: Array<{ remote: string; destination: string; upPackets: number; downPackets: number; state: string }>;
  logs: string[];
  error?: string;
}

export type IcmpChildCommands = {
  /** Runs the requests, closes the forwarder and stops reading: the child should then exit. */
  run: { args: ChildRequest; result: ChildReport };
};
