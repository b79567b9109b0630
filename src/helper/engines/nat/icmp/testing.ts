// Test doubles shared by the ICMP tests (unit tests here and the namespace test in e2e/).
export { CapturingOutput } from "../capturing-output.js";
import { buildIcmpEchoPacket, IcmpView, parseAddress, parseIp, type IpView } from "../../packet/index.js";
import { EgressPolicy } from "../egress-policy.js";
import { FlowTable } from "../flow-table.js";
import { newNatCounters } from "../nat-counters.js";
import { CapturingOutput } from "../capturing-output.js";
import type { IcmpForwarderContext } from "./echo-flows.js";

export interface TestContext extends IcmpForwarderContext {
  output: CapturingOutput;
  /** The fake clock the table (and so the flows) read. */
  clock: { now: number };
}

/** A context whose policy allows only `prefixes`; nothing counts as this computer's own. */
export function testContext(prefixes: readonly string[], clock?: { now: number }): TestContext {
  const time = clock ?? { now: 1_000_000 };
  return {
    output: new CapturingOutput(),
    table: new FlowTable({ now: clock ? () => time.now : Date.now }),
    policy: new EgressPolicy({ prefixes, allowLocal: false, localAddresses: () => [] }),
    counters: newNatCounters(),
    clock: time,
  };
}

/** An echo request from the remote as the engine hands it over: views over one packet. */
export function echoRequest(
  src: string,
  dst: string,
  identifier: number,
  sequence: number,
  payload: Uint8Array = Buffer.from("backhaul echo payload"),
): { ip: IpView; icmp: IcmpView } {
  const packet = buildIcmpEchoPacket({
    kind: "request",
    src: parseAddress(src),
    dst: parseAddress(dst),
    identifier,
    sequence,
    payload,
  });
  const ip = parseIp(packet);
  return { ip, icmp: IcmpView.parse(ip.payload, ip.version) };
}

/** Parses a packet written to the output back into views. */
export function parseOutput(packet: Buffer): { ip: IpView; icmp: IcmpView } {
  const ip = parseIp(packet);
  return { ip, icmp: IcmpView.parse(ip.payload, ip.version) };
}
