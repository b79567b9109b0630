// One agent per journal at a time. A PID check alone leaves a window where two agents starting
// together both decide the journal's owner is dead and both take it over; a listening socket in
// Linux's abstract namespace closes that window: binding it is atomic, it needs no file, and the
// kernel releases it when its process dies, even by SIGKILL. Abstract names are per network
// namespace, as are the TUN device and routes that the journal guards.
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:net";

export interface InstanceLock {
  release(): Promise<void>;
}

/** The lock's name for a journal path: short, and the same for every agent using that path. */
export function lockName(journalPath: string): string {
  const digest = createHash("sha256").update(journalPath).digest("hex").slice(0, 32);
  return `\0backhaul-agent-${digest}`;
}

/** The lock, or null when another process holds it. */
export function acquireInstanceLock(journalPath: string): Promise<InstanceLock | null> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer((socket) => socket.destroy());
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve(null);
      else reject(error);
    });
    server.listen({ path: lockName(journalPath) }, () => {
      // The lock must not keep the agent alive on its own.
      server.unref();
      resolve({
        release: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
