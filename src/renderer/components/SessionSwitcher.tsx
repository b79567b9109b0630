/**
 * The sessions the app holds, one chip each (its name and state, a click shows it, × ends it or
 * forgets one in error), and "New session" for the target picker beside the running ones.
 */
import { useController } from "../controller.js";
import { PICKING, useSessionStore } from "../state/session-store.js";

export function SessionSwitcher() {
  const controller = useController();
  const sessions = useSessionStore((s) => s.sessions);
  const shown = useSessionStore((s) => s.session);
  const picking = useSessionStore((s) => s.selected === PICKING);
  if (sessions.length === 0 && !picking) return null;
  return (
    <nav className="session-switcher" aria-label="Sessions" data-testid="session-switcher">
      {sessions.map((view) => {
        const id = view.target?.id ?? "";
        const label = view.target?.label ?? id;
        const current = !picking && shown.target?.id === id;
        const ended = view.phase === "error" || view.phase === "disconnected";
        return (
          <div
            key={id}
            className="session-chip"
            data-testid="session-chip"
            data-session={label}
            data-phase={view.phase}
            aria-current={current ? "true" : undefined}
          >
            <button
              type="button"
              className="session-chip-show"
              title={`${label}: ${view.phase}`}
              onClick={() => controller.select(id)}
            >
              <span className="phase-dot" data-phase={view.phase} />
              <span className="session-chip-label">{label}</span>
              <span className="session-chip-phase">{view.phase}</span>
            </button>
            <button
              type="button"
              className="session-chip-end"
              data-testid="session-chip-disconnect"
              aria-label={ended ? `Forget ${label}` : `Disconnect ${label}`}
              title={ended ? "Forget" : "Disconnect"}
              onClick={() => void controller.disconnect(id)}
            >
              ×
            </button>
          </div>
        );
      })}
      <button
        type="button"
        className="btn small"
        data-testid="new-session"
        aria-pressed={picking}
        onClick={() => controller.select(PICKING)}
      >
        + New session
      </button>
    </nav>
  );
}
