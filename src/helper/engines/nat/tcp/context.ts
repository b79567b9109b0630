import type { FlowTable } from "../flow-table.js";
import type { MemoryBudget } from "../memory-budget.js";
import type { PacketOutput } from "../packet-output.js";
import type { DialTarget } from "./flow-peer.js";
import type { TcpLimits } from "./limits.js";

/** How a flow's dial ended: "abandoned" when the flow went away before it could tell. */
export type DialOutcome = "connected" | "failed" | "abandoned";

/** A flow as its forwarder drives it: timers, batched ACKs, a drained link, shutdown. */
export interface ForwardedFlow {
  /** The forwarder's key for the flow (flow-key.ts). */
  readonly key: string;
  /** Earliest deadline (ms, the context's clock); 0 when none. */
  readonly deadline: number;
  timer(now: number): void;
  /** Sends the ACK owed since `ackLater`. */
  flushAck(): void;
  linkDrained(now: number): void;
  abort(reason: string): void;
}

/** What a flow needs from the forwarder that owns it. */
export interface TcpContext {
  readonly output: PacketOutput;
  readonly table: FlowTable;
  readonly budget: MemoryBudget;
  readonly limits: TcpLimits;
  readonly linkMtu: number;
  /** The clock (ms) the flow's connection is driven by. */
  now(): number;
  /** The flow has a deadline to be checked by the forwarder's ticker. */
  watchTimers(flow: ForwardedFlow): void;
  /** The flow's dial ended: a dial slot is free; `dial` was a real connect taking `connectMs`. */
  dialFinished(outcome: DialOutcome, dial: DialTarget | undefined, connectMs: number): void;
  /** The flow wants to send but the link is full: call `linkDrained` on drain. */
  waitForDrain(flow: ForwardedFlow): void;
  /** The flow owes the remote an ACK: call `flushAck` at the end of the current batch, or when
   * `delayable` within ACK_DELAY_MS. */
  ackLater(flow: ForwardedFlow, delayable: boolean): void;
  closed(flow: ForwardedFlow): void;
}
