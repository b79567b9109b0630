// Reads a client's handshake from its socket, message by message, for the pure parsers: it keeps
// what has arrived, asks the parser, and waits for more only when the parser says so.
import type { Socket } from "node:net";
import type { ParseResult } from "./parse-result.js";

export class HandshakeClosed extends Error {
  constructor() {
    super("the client closed the connection during the handshake");
    this.name = "HandshakeClosed";
  }
}

export class HandshakeReader {
  private pending: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private ended = false;
  private readonly onData = (chunk: Buffer): void => {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    // Nothing more is read than one message needs at most; a client past that waits.
    if (this.pending.length > this.maxBytes) this.socket.pause();
    this.wake?.();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.wake?.();
  };

  constructor(
    private readonly socket: Socket,
    private readonly maxBytes: number,
  ) {
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("close", this.onEnd);
  }

  /**
   * The next message, in whatever the parser returns other than "incomplete". Rejects with
   * HandshakeClosed when the client ends first. The bytes the message used are consumed.
   */
  async next<R extends ParseResult<unknown> | { status: string }>(parse: (bytes: Buffer) => R): Promise<R> {
    for (;;) {
      const result = parse(this.pending);
      if (result.status === "ok" && "length" in result && typeof result.length === "number") {
        this.pending = this.pending.subarray(result.length);
        return result;
      }
      if (result.status !== "incomplete") return result;
      if (this.ended) throw new HandshakeClosed();
      if (this.socket.isPaused()) this.socket.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }

  /**
   * Stops reading; returns the bytes that arrived after the handshake (the first payload) and
   * whether the client already ended its side.
   */
  detach(): { rest: Buffer; ended: boolean } {
    this.socket.off("data", this.onData);
    this.socket.off("end", this.onEnd);
    this.socket.off("close", this.onEnd);
    this.socket.pause();
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return { rest, ended: this.ended };
  }
}

/** How long a refused client may take to read the answer before its connection is destroyed. */
const REFUSAL_LINGER_MS = 2_000;

/**
 * Sends the last answer (a refusal) and closes: reads are discarded until the client ends or the
 * linger passes, so the answer is not lost to a reset caused by unread input.
 */
export function refuse(socket: Socket, reader: HandshakeReader, answer: Buffer | string): void {
  reader.detach();
  socket.on("data", () => undefined);
  socket.on("end", () => socket.destroy());
  socket.end(answer);
  socket.resume();
  setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
}
