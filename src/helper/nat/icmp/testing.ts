// Test doubles shared by the ICMP tests (unit tests here and the namespace test in e2e/).
import { buildIcmpEchoPacket, IcmpView, parseAddress, parseIp, type IpView } from "../../packet/index.js";
import { EgressPolicy } from "../egress-policy.js";
import { FlowTable } from "../flow-table.js";
import { newNatCounters } from "../nat-counters.js";
import type { PacketOutput } from "../packet-output.js";
import type { IcmpForwarderContext } from "./echo-flows.js";

/** A PacketOutput that keeps what it is given. */
export class CapturingOutput implements PacketOutput {
  readonly packets: Buffer[] = [];
  readonly writable = true;
  private readonly waiters: Array<() => void> = [];

  send(packet: Buffer): void {
    this.packets.push(packet);
    for (const waiter of this.waiters.splice(0)) waiter();
  }
  sendWith(length: number, fill: (target: Buffer, offset: number) => void): void {
    const packet = Buffer.alloc(length);
    fill(packet, 0);
    this.send(packet);
  }

  onDrain(): void {}

  /** Resolves once `count` packets have arrived, or rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.packets.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`got ${this.packets.length} of ${count} packets within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

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
