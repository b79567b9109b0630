/** The connected session's details: where to, since when, by which entrance, and what the remote can reach. */
import type { SessionView } from "../../shared/api.js";
import { formatClock, formatDuration } from "../format.js";
import { useNow } from "../hooks.js";
import { CaptureControl } from "./CaptureControl.js";
import { SessionEntrance } from "./SessionEntrance.js";
import { ConnectSteps } from "./SessionProgress.js";

export function SessionSummary({ session }: { session: SessionView }) {
  const now = useNow(1000);
  return (
    <div className="page-narrow" data-testid="session-summary">
      <h2>Connected to {session.target?.label ?? "the remote"}</h2>
      <p className="lede">
        Programs on the remote reach the prefixes below through this computer. Watch them in the NAT and DNS
        tabs; check a single host in Diagnostics.
      </p>
      <dl className="details">
        <dt>Target</dt>
        <dd className="mono">{session.target?.id ?? "–"}</dd>
        <dt>Connected</dt>
        <dd>
          {session.connectedSince === null
            ? "–"
            : `${formatDuration(now - session.connectedSince)} ago, at ${formatClock(session.connectedSince)}`}
          {session.attempt > 1 && <span className="muted"> · attempt {session.attempt}</span>}
        </dd>
        <dt>Entrance</dt>
        <dd>
          <SessionEntrance entrance={session.entrance} />
        </dd>
        <dt>Advertised prefixes</dt>
        <dd className="chips" data-testid="advertised">
          {session.advertised.length === 0
            ? "none"
            : session.advertised.map((prefix) => (
                <code className="chip" key={prefix}>
                  {prefix}
                </code>
              ))}
        </dd>
        <dt>Packets</dt>
        <dd>
          <CaptureControl />
        </dd>
        {session.message && (
          <>
            <dt>Note</dt>
            <dd data-testid="session-message">{session.message}</dd>
          </>
        )}
      </dl>
      <ConnectSteps session={session} />
    </div>
  );
}
