/**
 * The helper's side of one control connection: events to main, written with backpressure.
 *
 * Progress and status are states: while the socket pushes back, only the latest of each waits
 * (sent on 'drain', or before the next event that must keep its place). Everything else (table
 * deltas, ready, closed) is a sequence main must see whole and in order, so it queues in the
 * socket; a main that stops reading is dropped once that backlog passes `maxBacklogBytes`, and
 * the link closes with it (nobody would be following it).
 */
import type { Socket } from "node:net";
import { encodeLine, MAX_HELPER_LINE, type HelperEvent } from "../../shared/helper-protocol.js";

type LatestEvent = Extract<HelperEvent, { type: "progress" | "status" }>;

export interface ControlChannelOptions {
  /** Bytes queued in the socket beyond which the connection is dropped. */
  maxBacklogBytes: number;
  log(line: string): void;
}

export class ControlChannel {
  private readonly latest = new Map<LatestEvent["type"], LatestEvent>();

  constructor(
    private readonly socket: Socket,
    private readonly options: ControlChannelOptions,
  ) {
    socket.on("drain", () => this.writeLatest());
  }

  send(event: HelperEvent): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    if (event.type === "progress" || event.type === "status") {
      if (this.socket.writableNeedDrain) this.latest.set(event.type, event);
      else this.write(event);
      return;
    }
    this.writeLatest(); // they came first
    this.write(event);
  }

  private writeLatest(): void {
    const waiting = [...this.latest.values()];
    this.latest.clear();
    for (const event of waiting) this.write(event);
  }

  private write(event: HelperEvent): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    const line = encodeLine(event);
    if (line.length > MAX_HELPER_LINE) {
      this.options.log(`dropped a ${event.type} event of ${line.length} bytes`);
      return;
    }
    this.socket.write(line);
    if (this.socket.writableLength > this.options.maxBacklogBytes) {
      this.options.log(
        `dropped a control connection that stopped reading (${this.socket.writableLength} bytes waiting)`,
      );
      this.socket.destroy();
    }
  }
}
