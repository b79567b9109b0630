/** A session on its way: the connect steps, a reconnect's countdown, or the error that ended it. */
import type { ReactNode } from "react";
import { CONNECT_STEPS, type ConnectStep, type SessionView } from "../../shared/api.js";
import { useController } from "../controller.js";
import { useNow } from "../hooks.js";
import { useSessionStore } from "../state/session-store.js";
import { stepStatus } from "../state/steps.js";

const STEP_LABELS: Record<ConnectStep, { label: string; hint: string }> = {
  start: { label: "Start the target", hint: "a stopped codespace can take a minute to start" },
  ssh: { label: "SSH connection", hint: "authenticate and check the host key" },
  upload: {
    label: "Upload the agent",
    hint: "and Node.js when the remote has no 18+; skipped when the same version is there",
  },
  agent: { label: "Start the agent", hint: "sudo (its password, if it asks), then the TUN device" },
  routes: { label: "Routes", hint: "advertised prefixes into the tunnel" },
  dns: { label: "DNS", hint: "the remote's resolver points here" },
};

/** An exec: target reaches the remote by its command, not SSH. */
const EXEC_REACH = { label: "Run the command", hint: "its input and output reach a shell on the remote" };

function stepLabel(session: SessionView, step: ConnectStep): { label: string; hint: string } {
  return step === "ssh" && session.target?.id.startsWith("exec:") ? EXEC_REACH : STEP_LABELS[step];
}

function stepHint(session: SessionView, step: ConnectStep): string {
  // Only a codespace can be stopped; other targets pass this step at once.
  if (step === "start" && !session.target?.id.startsWith("codespace:")) return "preparing the target";
  return stepLabel(session, step).hint;
}

export function ConnectSteps({ session }: { session: SessionView }) {
  return (
    <ol className="steps">
      {CONNECT_STEPS.map((step) => {
        const status = stepStatus(session, step);
        return (
          <li key={step} className="step" data-testid="connect-step" data-step={step} data-status={status}>
            <span className="step-mark" aria-hidden="true">
              {status === "done" ? "✓" : ""}
            </span>
            <span>{stepLabel(session, step).label}</span>
            {status === "current" && <span className="step-hint">— {stepHint(session, step)}</span>}
          </li>
        );
      })}
    </ol>
  );
}

export function ConnectingView({ session }: { session: SessionView }) {
  return (
    <ProgressCard
      testId="connecting-view"
      title={`Connecting to ${session.target?.label ?? "the target"}`}
      attempt={session.attempt > 1 ? session.attempt : null}
    >
      {session.message && <p className="progress-message">{session.message}</p>}
      <ConnectSteps session={session} />
    </ProgressCard>
  );
}

export function ReconnectingView({ session }: { session: SessionView }) {
  const now = useNow(250);
  const seconds = session.retryAt === null ? null : Math.max(0, Math.ceil((session.retryAt - now) / 1000));
  return (
    <ProgressCard
      testId="reconnecting-view"
      title={`Reconnecting to ${session.target?.label ?? "the target"}`}
      attempt={session.attempt > 0 ? session.attempt : null}
    >
      <p className="progress-message" data-testid="reconnect-reason">
        {session.message ?? "The link to the remote dropped."}
      </p>
      <p data-testid="reconnect-countdown">
        {seconds === null || seconds === 0 ? (
          "Trying again now…"
        ) : (
          <>
            Next attempt in <span className="countdown">{seconds} s</span>. Flows that were open have ended;
            new ones work as soon as the link is back.
          </>
        )}
      </p>
      {session.step !== null && <ConnectSteps session={session} />}
    </ProgressCard>
  );
}

export function ErrorView({ session }: { session: SessionView }) {
  const controller = useController();
  return (
    <ProgressCard
      testId="error-view"
      title={`Could not connect${session.target ? ` to ${session.target.label}` : ""}`}
      attempt={null}
      actions={
        <div className="actions">
          {session.target && (
            <button
              type="button"
              className="btn primary"
              data-testid="retry"
              onClick={() => session.target && void controller.connect(session.target.id)}
            >
              Try again
            </button>
          )}
          <button
            type="button"
            className="btn"
            data-testid="back-to-targets"
            onClick={() => controller.dismissError()}
          >
            Back to targets
          </button>
        </div>
      }
    >
      <p className="progress-message bad" data-testid="session-error">
        {session.message ?? "The session ended with an error."}
      </p>
    </ProgressCard>
  );
}

/** The card every state on the way shows: its title and attempt, what it says, then main's log and any actions. */
function ProgressCard(props: {
  testId: string;
  title: string;
  /** Shown once there is more than a first attempt to count. */
  attempt: number | null;
  children: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="progress-card" data-testid={props.testId}>
      <h2>
        {props.title}
        {props.attempt !== null && <span className="attempt">attempt {props.attempt}</span>}
      </h2>
      {props.children}
      <LogTail />
      {props.actions}
    </div>
  );
}

/** The last lines main logged: what a user pastes into a bug report. */
function LogTail() {
  const log = useSessionStore((s) => s.log);
  if (log.length === 0) return null;
  return (
    <pre className="log-tail" data-testid="log-tail">
      {log.slice(-6).join("\n")}
    </pre>
  );
}
