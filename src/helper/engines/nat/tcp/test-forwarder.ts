// For tests only (no shipped module imports it): a TcpForwarder on a capturing output, with one
// remote (198.18.0.1:40000) talking to 198.19.0.1:80 through a peer the test makes.
import assert from "node:assert/strict";
import {
  buildTcpPacket,
  parseAddress,
  parseIp,
  TcpFlag,
  TcpView,
  type TcpOptions,
} from "../../packet/index.js";
import { CapturingOutput } from "../capturing-output.js";
import { EgressPolicy } from "../egress-policy.js";
import { FlowTable } from "../flow-table.js";
import { MemoryBudget } from "../memory-budget.js";
import { newNatCounters } from "../nat-counters.js";
import type { FlowPeer, FlowPeerEvents, PeerOpener } from "./flow-peer.js";
import { TcpForwarder } from "./forwarder.js";
import { DEFAULT_TCP_LIMITS, type TcpLimits } from "./limits.js";

export const REMOTE = parseAddress("198.18.0.1");
export const DEST = parseAddress("198.19.0.1");

/**
 * The forwarder, and the remote's side of one flow: `send` hands it a segment (with `synOptions`
 * on a SYN), `taken` the segments it sent since, and `peer` the peer it opened, once it has.
 */
export function forwarderRig<P extends FlowPeer>(
  makePeer: (events: FlowPeerEvents) => P,
  options: { table?: FlowTable; budget?: MemoryBudget; limits?: TcpLimits; synOptions?: TcpOptions } = {},
) {
  const output = new CapturingOutput();
  const forwarder = new TcpForwarder({
    output,
    table: options.table ?? new FlowTable(),
    budget: options.budget ?? new MemoryBudget(64 * 1024 * 1024),
    policy: new EgressPolicy({ prefixes: [], allowLocal: false }),
    counters: newNatCounters(),
    limits: options.limits ?? DEFAULT_TCP_LIMITS,
    linkMtu: 1500,
    maxFlows: 16,
    maxDialing: 16,
    internalError: (error) => assert.fail(String(error)),
  });
  let peer: P | undefined;
  const opener: PeerOpener = { dial: undefined, open: (events) => (peer = makePeer(events)) };
  const send = (seq: number, ack: number, flags: number, payload?: Buffer): void => {
    const ip = parseIp(
      buildTcpPacket({
        src: REMOTE,
        dst: DEST,
        srcPort: 40000,
        dstPort: 80,
        seq,
        ack,
        flags,
        window: 65535,
        payload,
        ...(flags & TcpFlag.SYN && options.synOptions ? { options: options.synOptions } : {}),
      }),
    );
    forwarder.handle(ip, TcpView.parse(ip.payload), opener);
    forwarder.flush();
  };
  const taken = () => output.packets.splice(0).map((packet) => TcpView.parse(parseIp(packet).payload));
  return { forwarder, send, taken, peer: () => peer };
}
