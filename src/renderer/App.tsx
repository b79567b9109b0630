/** The window: a bar with the session's state, the tabs, and the view the session is in. */
import { useEffect, useRef, useState } from "react";
import type { SessionPhase, SessionView } from "../shared/api.js";
import { DiagnosticsPanel } from "./components/DiagnosticsPanel.js";
import { DnsTable } from "./components/DnsTable.js";
import { FlowTable } from "./components/FlowTable.js";
import { PromptDialog } from "./components/PromptDialog.js";
import { ConnectingView, ErrorView, ReconnectingView } from "./components/SessionProgress.js";
import { SessionSummary } from "./components/SessionSummary.js";
import { SessionSwitcher } from "./components/SessionSwitcher.js";
import { SettingsPanel } from "./components/SettingsPanel.js";
import { StatsHeader } from "./components/StatsHeader.js";
import { TargetPicker } from "./components/TargetPicker.js";
import { useController } from "./controller.js";
import { useNow } from "./hooks.js";
import { setNotice, useSessionStore } from "./state/session-store.js";
import { useTablesStore } from "./state/tables-store.js";

type Tab = "session" | "flows" | "dns" | "diagnostics" | "settings";

const ACTIVE_PHASES: readonly SessionPhase[] = ["connecting", "connected", "reconnecting"];

/** The same error, told again (after a reconnect of the bridge, say), stays dismissed. */
function sameError(a: SessionView | null, b: SessionView): boolean {
  return a !== null && a.phase === b.phase && a.message === b.message && a.target?.id === b.target?.id;
}

export function App() {
  const session = useSessionStore((s) => s.session);
  const dismissedError = useSessionStore((s) => s.dismissedError);
  const showError = session.phase === "error" && !sameError(dismissedError, session);
  const [tab, setTab] = useState<Tab>("session");
  useFollowPhase(session.phase, setTab);

  return (
    <div className="app">
      <TopBar session={session} />
      <SessionSwitcher />
      <LinkBanner />
      <NoticeBanner />
      {session.phase === "reconnecting" && tab !== "session" && <ReconnectBanner session={session} />}
      {(session.phase === "connected" || session.phase === "reconnecting") && (
        <StatsHeader session={session} />
      )}
      <Tabs tab={tab} onTab={setTab} session={session} />
      <main className="content">
        {tab === "session" && (
          <div className="page">
            <SessionPane session={session} showError={showError} />
          </div>
        )}
        {tab === "flows" && <FlowTable />}
        {tab === "dns" && <DnsTable />}
        {tab === "diagnostics" && <DiagnosticsPanel />}
        {tab === "settings" && <SettingsPanel />}
      </main>
      <StatusBar />
      <PromptDialog />
    </div>
  );
}

/** Show what the user just started: the steps while connecting, the NAT table once connected. */
function useFollowPhase(phase: SessionPhase, setTab: (update: (tab: Tab) => Tab) => void): void {
  const previous = useRef(phase);
  useEffect(() => {
    const before = previous.current;
    previous.current = phase;
    if (before === phase) return;
    if (phase === "connecting" && (before === "disconnected" || before === "error")) setTab(() => "session");
    else if (phase === "connected" && before === "connecting")
      setTab((tab) => (tab === "session" ? "flows" : tab));
    else if (phase === "disconnected" || phase === "error")
      setTab((tab) => (tab === "flows" || tab === "dns" ? "session" : tab));
  }, [phase, setTab]);
}

function SessionPane({ session, showError }: { session: SessionView; showError: boolean }) {
  switch (session.phase) {
    case "connecting":
      return <ConnectingView session={session} />;
    case "reconnecting":
      return <ReconnectingView session={session} />;
    case "connected":
      return <SessionSummary session={session} />;
    case "error":
      return showError ? <ErrorView session={session} /> : <TargetPicker busy={false} />;
    case "disconnected":
      return (
        <>
          {session.message && (
            <p className="warning" data-testid="session-message">
              {session.message}
            </p>
          )}
          <TargetPicker busy={false} />
        </>
      );
  }
}

function TopBar({ session }: { session: SessionView }) {
  const controller = useController();
  const active = ACTIVE_PHASES.includes(session.phase);
  return (
    <header className="topbar">
      <span className="brand">
        <svg className="brand-mark" viewBox="0 0 20 20" aria-hidden="true">
          <path
            d="M3 14c3-8 11-8 14 0M6 14c2-4.5 6-4.5 8 0"
            fill="none"
            stroke="currentColor"
            strokeWidth="2"
            strokeLinecap="round"
          />
          <circle cx="10" cy="14" r="1.8" fill="currentColor" />
        </svg>
        Backhaul
      </span>
      <span className="phase" data-phase={session.phase} data-testid="session-phase">
        {session.phase}
      </span>
      {session.target && (
        <span className="topbar-target" data-testid="session-target">
          {active ? "to " : "last: "}
          <strong>{session.target.label}</strong>
        </span>
      )}
      <span className="spacer" />
      {active && (
        <button
          type="button"
          className="btn danger"
          data-testid="disconnect"
          onClick={() => void controller.disconnect(session.target?.id)}
        >
          {session.phase === "connecting" ? "Cancel" : "Disconnect"}
        </button>
      )}
    </header>
  );
}

function Tabs({ tab, onTab, session }: { tab: Tab; onTab(tab: Tab): void; session: SessionView }) {
  const openFlows = useTablesStore((s) => s.flows.size);
  const answers = useTablesStore((s) => s.dns.size);
  const idle = session.phase === "disconnected" || session.phase === "error";
  const tabs: { id: Tab; label: string; count?: number }[] = [
    { id: "session", label: idle ? "Targets" : "Session" },
    { id: "flows", label: "NAT", count: openFlows },
    { id: "dns", label: "DNS", count: answers },
    { id: "diagnostics", label: "Diagnostics" },
    { id: "settings", label: "Settings" },
  ];
  return (
    <nav className="tabs" role="tablist" aria-label="Views">
      {tabs.map(({ id, label, count }) => (
        <button
          key={id}
          type="button"
          role="tab"
          className="tab"
          aria-selected={tab === id}
          data-testid={`tab-${id}`}
          onClick={() => onTab(id)}
        >
          {label}
          {count !== undefined && count > 0 && <span className="tab-count">{count.toLocaleString()}</span>}
        </button>
      ))}
    </nav>
  );
}

function LinkBanner() {
  const link = useSessionStore((s) => s.link);
  if (link === "refused") {
    return (
      <div className="banner bad" role="alert" data-testid="link-refused">
        This page is not connected to a running <code>backhaul ui</code>: open the URL it printed.
      </div>
    );
  }
  if (link !== "lost") return null;
  return (
    <div className="banner bad" role="alert" data-testid="link-lost">
      Connection to Backhaul lost. Reconnecting…
    </div>
  );
}

/** Away from the session tab, a reconnect still shows: the tables below are stale meanwhile. */
function ReconnectBanner({ session }: { session: SessionView }) {
  const now = useNow(250);
  const seconds = session.retryAt === null ? 0 : Math.max(0, Math.ceil((session.retryAt - now) / 1000));
  return (
    <div className="banner warn" role="status" data-testid="reconnect-banner">
      <span>
        {session.message ?? "The link to the remote dropped."}{" "}
        <strong>{seconds > 0 ? `Next attempt in ${seconds} s.` : "Trying again now…"}</strong>
      </span>
    </div>
  );
}

function NoticeBanner() {
  const notice = useSessionStore((s) => s.notice);
  if (!notice) return null;
  return (
    <div className="banner warn" role="alert" data-testid="notice">
      <span>{notice}</span>
      <button type="button" className="btn small" onClick={() => setNotice(null)}>
        Dismiss
      </button>
    </div>
  );
}

function StatusBar() {
  const info = useSessionStore((s) => s.info);
  return (
    <footer className="statusbar">
      <span data-testid="app-version">{info ? `Version ${info.version} on ${info.platform}` : "…"}</span>
      {info && <span>{info.shell === "browser" ? "browser mode" : "desktop app"}</span>}
    </footer>
  );
}
