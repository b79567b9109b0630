import type { Socket } from "node:net";

/**
 * Aborts a TCP socket: with an RST while it can still send, else a plain close. Node's
 * resetAndDestroy() on a socket whose end() is under way fails (libuv's uv_tcp_close_reset
 * refuses a socket being shut down: EINVAL) and leaves a handle that never closes, on which the
 * event loop then spins at full CPU (Node 20; socket-reset.test.ts). The NAT engine did that when
 * a link ended just after a remote's FIN. Our FIN is on its way then: closing is what is left.
 */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}
