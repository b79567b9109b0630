/**
 * Splices a client's socket and a link stream, both ways, with backpressure and half-close:
 * - client -> stream: a write the exit has no credit for (false) pauses the socket until drain;
 * - stream -> client: `consumed(n)` is called once the socket has handed the bytes to the kernel,
 *   so the exit's credit, and so memory here, follow how fast the client reads. The chunks of one
 *   event-loop turn go to the kernel in one writev (the socket is corked until the turn ends): on
 *   the remote, the loopback write is the download's largest cost (the kernel's TCP work for both
 *   ends runs inside it), and one call per link frame multiplies it;
 * - an end on either side ends the other's sending half only; an error or reset resets both.
 */
import type { Socket } from "node:net";
import { StreamStatus, type LinkStream } from "../../../shared/link-streams.js";
import { resetSocket } from "../socket-reset.js";

export interface SpliceStart {
  /** Bytes the client sent after its handshake, for the stream first. */
  rest: Buffer;
  /** The client ended its side during the handshake. */
  ended: boolean;
  /**
   * At most this many bytes go from the client to the stream (a plain HTTP request's body); what
   * follows is dropped: a pipelined request behind it must not reach this origin with the proxy's
   * credentials. Unlimited when absent.
   */
  upstreamLimit?: number;
}

/** Resolves when both are closed, with the stream's final status. */
export function splice(socket: Socket, stream: LinkStream, start: SpliceStart): Promise<StreamStatus> {
  return new Promise((resolve) => {
    let streamClosed = false;
    let finalStatus: StreamStatus = StreamStatus.Ok;
    const finish = (): void => {
      if (streamClosed && socket.destroyed) resolve(finalStatus);
    };

    let blocked = false;
    let allowed = start.upstreamLimit ?? Infinity;
    const toStream = (received: Buffer): void => {
      const chunk = received.length > allowed ? received.subarray(0, allowed) : received;
      allowed -= chunk.length;
      if (chunk.length === 0 || stream.write(chunk)) return;
      blocked = true;
      socket.pause();
    };
    stream.onDrain(() => {
      blocked = false;
      if (!socket.destroyed) socket.resume();
    });
    if (start.rest.length > 0) toStream(start.rest);
    if (start.ended) stream.end();
    else {
      socket.on("data", toStream);
      socket.on("end", () => stream.end());
      if (!blocked) socket.resume();
    }

    let corked = false;
    const uncork = (): void => {
      corked = false;
      socket.uncork();
    };
    stream.onData((bytes) => {
      if (socket.destroyed) return;
      if (!corked) {
        corked = true;
        socket.cork();
        setImmediate(uncork);
      }
      socket.write(bytes, (error) => {
        if (!error) stream.consumed(bytes.length);
      });
    });
    stream.onEnd(() => {
      if (!socket.destroyed) socket.end();
    });
    stream.onClose((status) => {
      streamClosed = true;
      finalStatus = status;
      // Both sides ended: the socket closes on its own once its last bytes are out.
      if (status !== StreamStatus.Ok) resetSocket(socket);
      finish();
    });
    socket.on("error", () => undefined);
    socket.on("close", (hadError) => {
      if (!streamClosed && (hadError || !socket.readableEnded || !socket.writableFinished)) stream.reset();
      finish();
    });
  });
}
