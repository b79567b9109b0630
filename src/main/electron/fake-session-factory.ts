/**
 * A stand-in for src/main/app/session-factory.ts, swapped in by main.test.ts when it bundles the
 * Electron shell. Each session is a real broker Session whose agent and exit side are fakes that
 * record what happens to them: the fake agent "restores the remote" a moment after its link
 * closes, as the real one undoes its changes. Nothing reaches a network or starts a process.
 */
import { SudoPassword } from "../broker/deploy/sudo-password.js";
import { fakeAgentLink } from "../broker/fake-agent-link.js";
import type { SessionSpec } from "../broker/session-factory.js";
import { Session, type SessionOptions } from "../broker/session.js";

declare global {
  /** What the fakes did, in order. The test and the bundle share only globals. */
  var backhaulFakeSessionEvents: string[] | undefined;
}

/** How long the fake agent takes to restore the remote once its link has closed. */
export const FAKE_RESTORE_MS = 300;

function record(event: string): void {
  (globalThis.backhaulFakeSessionEvents ??= []).push(event);
}

/** One fake agent and the fake exit side on its link; the agent restores the remote after it closes. */
function fakeLink() {
  return fakeAgentLink({
    progress: [{ "agent.routes": 1, "agent.ready": 1 }],
    onClose: (reason) => record(`fake link closed: ${reason}`),
    restore: () =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          record("fake agent exited: the remote is restored");
          resolve();
        }, FAKE_RESTORE_MS),
      ),
  });
}

export class AppSessionFactory {
  create(spec: SessionSpec): Session {
    const link = fakeLink();
    return new Session({
      exitProvider: link.provider,
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
