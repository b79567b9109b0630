/**
 * A stand-in for src/main/app/session-factory.ts, swapped in by main.test.ts when it bundles the
 * Electron shell. Each session is a real broker Session whose agent and exit side are fakes that
 * record what happens to them: the fake agent "restores the remote" a moment after its link
 * closes, as the real one undoes its changes. Nothing reaches a network or starts a process.
 */
import { PassThrough } from "node:stream";
import { SudoPassword } from "../broker/deploy/sudo-password.js";
import type { ExitHandle, ExitProvider } from "../broker/exit-handle.js";
import type { SessionSpec } from "../broker/session-factory.js";
import { Session, type AgentTransport, type SessionOptions } from "../broker/session.js";

declare global {
  /** What the fakes did, in order. The test and the bundle share only globals. */
  var backhaulFakeSessionEvents: string[] | undefined;
}

/** How long the fake agent takes to restore the remote once its link has closed. */
export const FAKE_RESTORE_MS = 300;

function record(event: string): void {
  (globalThis.backhaulFakeSessionEvents ??= []).push(event);
}

/** One fake agent and the fake exit side on its link; the agent exits once the link closes. */
function fakeLink(): { transport: AgentTransport; exit: ExitProvider } {
  let markClosed: (info: { reason: string }) => void = () => undefined;
  let ended = false;
  const closed = new Promise<{ reason: string }>((resolve) => (markClosed = resolve));
  const exited = closed.then(
    () =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          record("fake agent exited: the remote is restored");
          resolve();
        }, FAKE_RESTORE_MS),
      ),
  );
  const handle: ExitHandle = {
    nat: { table: { snapshot: () => [], subscribe: () => () => undefined, openCount: 0 } },
    dns: undefined,
    ready: Promise.resolve(),
    closed,
    rttMs: null,
    onProgress: (listener) => setImmediate(() => listener({ "agent.routes": 1, "agent.ready": 1 })),
    updateRoutes: () => undefined,
    startCapture: () => Promise.reject(new Error("this fake records no packets")),
    close: (reason) => {
      if (ended) return; // as the real ones: a second close changes nothing
      ended = true;
      record(`fake link closed: ${reason}`);
      markClosed({ reason });
    },
  };
  const transport: AgentTransport = {
    stream: new PassThrough(),
    stderr: new PassThrough(),
    close: () => markClosed({ reason: "the transport closed" }),
    exited,
  };
  return { transport, exit: { open: () => Promise.resolve(handle) } };
}

export class AppSessionFactory {
  create(spec: SessionSpec): Session {
    const link = fakeLink();
    return new Session({
      exitProvider: link.exit,
      openAgent: (step) => {
        step("ssh");
        record("fake agent started");
        return Promise.resolve(link.transport);
      },
      exit: spec.exit,
    });
  }

  /** Never asks: the fake agent needs no sudo. */
  sudoPassword(): SudoPassword {
    return new SudoPassword(() => Promise.resolve(null));
  }

  /** In place of SSH; never called: create pairs each session with its own fake agent. */
  remoteAgentOpener(): SessionOptions["openAgent"] {
    return () => Promise.reject(new Error("the fake session factory opens its agents itself"));
  }

  stop(): Promise<void> {
    record("fake helper stopped");
    return Promise.resolve();
  }
}
