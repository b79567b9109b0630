/**
 * The tray's menu and icon as plain data, decided from the sessions: no Electron here, so every
 * state → menu rule runs under plain Node in tray-menu.test.ts. tray.ts turns the description into
 * an Electron Menu and calls back with the item's action.
 */
import type { ConnectStep, SessionPhase, SessionView, TargetList, TargetSummary } from "../../shared/api.js";

export type TrayAction =
  | { kind: "connect"; targetId: string }
  /** One session by its target; without one, every session. */
  | { kind: "disconnect"; targetId?: string }
  | { kind: "show-window" }
  | { kind: "set-start-at-login"; enabled: boolean }
  | { kind: "quit" };

export type TrayMenuItem =
  | { type: "separator" }
  | { type: "normal"; id: string; label: string; enabled: boolean; action: TrayAction | null }
  | { type: "checkbox"; id: string; label: string; enabled: boolean; checked: boolean; action: TrayAction }
  | { type: "submenu"; id: string; label: string; enabled: boolean; submenu: TrayMenuItem[] };

export interface TrayMenuInput {
  /** The latest session started (shown alone while the app holds at most one). */
  session: SessionView;
  /** Every session the app holds, oldest first; absent: `session` alone. */
  sessions?: SessionView[];
  /** Recently used targets, newest first (see splitTargets). */
  recents: TargetSummary[];
  /** Every other target the providers list. */
  available: TargetSummary[];
  startAtLogin: boolean;
  platform: NodeJS.Platform;
  /** ms since epoch: the uptime and the reconnect countdown are computed from it. */
  now: number;
}

/** Long target names and error messages would stretch the menu across the screen. */
const MAX_LABEL = 64;
const MAX_RECENTS = 5;

const STEP_LABEL: Record<ConnectStep, string> = {
  start: "starting",
  ssh: "SSH",
  upload: "uploading the agent",
  agent: "starting the agent",
  routes: "routes",
  dns: "DNS",
};

function isIdle(session: SessionView): boolean {
  return session.phase === "disconnected" || session.phase === "error";
}

/** The sessions the menu lists: those the app holds, or the latest alone. */
function heldSessions(input: Pick<TrayMenuInput, "session" | "sessions">): SessionView[] {
  return input.sessions ?? (input.session.target ? [input.session] : []);
}

export function trayMenu(input: TrayMenuInput): TrayMenuItem[] {
  const { platform } = input;
  const sessions = heldSessions(input);
  // Another target can be connected while sessions run; a target already running cannot, twice.
  const running = new Set(sessions.filter((view) => !isIdle(view)).flatMap((view) => view.target?.id ?? []));
  const items: TrayMenuItem[] =
    sessions.length <= 1
      ? oneSession(sessions[0] ?? input.session, input.now)
      : sessions.flatMap((view) => [...sessionItems(view, input.now), { type: "separator" } as const]);
  if (sessions.length <= 1) items.push({ type: "separator" });
  items.push(
    {
      type: "submenu",
      id: "connect",
      label: "Connect to",
      enabled: true,
      submenu: connectSubmenu(input.recents, input.available, running),
    },
    {
      type: "normal",
      id: "disconnect",
      label: sessions.length > 1 ? "Disconnect all" : "Disconnect",
      enabled: running.size > 0,
      action: { kind: "disconnect" },
    },
    { type: "separator" },
    {
      type: "normal",
      id: "show-window",
      label: "Show window",
      enabled: true,
      action: { kind: "show-window" },
    },
    {
      type: "checkbox",
      id: "start-at-login",
      label: platform === "darwin" ? "Open at Login" : "Start at login",
      enabled: true,
      checked: input.startAtLogin,
      action: { kind: "set-start-at-login", enabled: !input.startAtLogin },
    },
    { type: "separator" },
    { type: "normal", id: "quit", label: quitLabel(platform), enabled: true, action: { kind: "quit" } },
  );
  return items;
}

/** The app holds one session at most: its state, and the reason on a second line. */
function oneSession(session: SessionView, now: number): TrayMenuItem[] {
  const items: TrayMenuItem[] = [
    { type: "normal", id: "status", label: statusLine(session, now), enabled: false, action: null },
  ];
  const detail = statusDetail(session);
  if (detail !== null)
    items.push({ type: "normal", id: "status-detail", label: detail, enabled: false, action: null });
  return items;
}

/** One of several sessions: its state, the reason, and its own Disconnect (Forget, once it failed). */
function sessionItems(session: SessionView, now: number): TrayMenuItem[] {
  const id = session.target?.id ?? "";
  const name = truncate(session.target?.label ?? id, 40);
  const items: TrayMenuItem[] = [
    {
      type: "normal",
      id: `status:${id}`,
      label:
        session.phase === "error"
          ? truncate(`${name}: ${statusLine(session, now)}`, MAX_LABEL)
          : statusLine(session, now),
      enabled: false,
      action: null,
    },
  ];
  const detail = statusDetail(session);
  if (detail !== null)
    items.push({ type: "normal", id: `status-detail:${id}`, label: detail, enabled: false, action: null });
  items.push({
    type: "normal",
    id: `disconnect:${id}`,
    label: `${isIdle(session) ? "Forget" : "Disconnect"} ${name}`,
    enabled: true,
    action: { kind: "disconnect", targetId: id },
  });
  return items;
}

/** The first line of the menu: the state at a glance. */
export function statusLine(session: SessionView, now: number): string {
  const name = session.target ? truncate(session.target.label, 40) : null;
  switch (session.phase) {
    case "disconnected":
      return "Not connected";
    case "connecting": {
      const step = session.step ? `: ${STEP_LABEL[session.step]}` : "";
      const attempt = session.attempt > 1 ? ` (attempt ${session.attempt})` : "";
      return `Connecting${name ? ` to ${name}` : ""}${step}…${attempt}`;
    }
    case "connected": {
      const uptime =
        session.connectedSince === null ? "" : ` · ${formatDuration(now - session.connectedSince)}`;
      return `Connected${name ? ` to ${name}` : ""}${uptime}`;
    }
    case "reconnecting": {
      const to = name ? ` to ${name}` : "";
      if (session.retryAt === null || session.retryAt <= now) return `Reconnecting${to}…`;
      return `Reconnecting${to} in ${Math.ceil((session.retryAt - now) / 1000)} s…`;
    }
    case "error":
      return truncate(`Error: ${session.message ?? "the session failed"}`, MAX_LABEL);
  }
}

/** A second, greyed line with the reason, where there is one the status line does not show. */
function statusDetail(session: SessionView): string | null {
  if (session.message === null || session.phase === "error" || session.phase === "connected") return null;
  return truncate(session.message, MAX_LABEL);
}

function connectSubmenu(
  recents: TargetSummary[],
  available: TargetSummary[],
  running: ReadonlySet<string>,
): TrayMenuItem[] {
  if (recents.length === 0 && available.length === 0)
    return [{ type: "normal", id: "connect:none", label: "No targets found", enabled: false, action: null }];
  const labels = targetLabels([...recents, ...available]);
  const entry = (target: TargetSummary): TrayMenuItem => ({
    type: "normal",
    id: `connect:${target.id}`,
    label: labels.get(target.id) ?? target.label,
    enabled: !running.has(target.id),
    action: { kind: "connect", targetId: target.id },
  });
  const items = recents.map(entry);
  if (recents.length > 0 && available.length > 0) items.push({ type: "separator" });
  items.push(...available.map(entry));
  return items;
}

/** Each target's label; two with the same label (codespaces of different repositories) get their detail. */
function targetLabels(targets: TargetSummary[]): Map<string, string> {
  const counts = new Map<string, number>();
  for (const target of targets) counts.set(target.label, (counts.get(target.label) ?? 0) + 1);
  return new Map(
    targets.map((target) => {
      const ambiguous = (counts.get(target.label) ?? 0) > 1 && target.detail !== "";
      return [
        target.id,
        truncate(ambiguous ? `${target.label} (${target.detail})` : target.label, MAX_LABEL),
      ];
    }),
  );
}

function quitLabel(platform: NodeJS.Platform): string {
  if (platform === "darwin") return "Quit Backhaul";
  if (platform === "win32") return "Exit";
  return "Quit";
}

/**
 * Splits the provider list for the menu: recent targets first (newest first, at most five), then
 * the others. A recent id no provider lists any more (an ssh:// URL typed by hand) is still offered.
 */
export function splitTargets(list: TargetList): { recents: TargetSummary[]; available: TargetSummary[] } {
  const byId = new Map(list.targets.map((target) => [target.id, target]));
  const recentIds = [...new Set(list.recents)].slice(0, MAX_RECENTS);
  const recents = recentIds.map((id) => byId.get(id) ?? unlistedTarget(id));
  const recentSet = new Set(recentIds);
  return { recents, available: list.targets.filter((target) => !recentSet.has(target.id)) };
}

function unlistedTarget(id: string): TargetSummary {
  const codespace = id.startsWith("codespace:");
  return {
    id,
    kind: id === "sandbox" ? "sandbox" : codespace ? "codespace" : "ssh",
    label: codespace ? id.slice("codespace:".length) : id,
    detail: "",
    codespace: null,
    lastUsedAt: null,
  };
}

/** "45s", "12m", "1h 02m", "3d 04h": the uptime in the status line. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d ${String(hours % 24).padStart(2, "0")}h`;
}

/**
 * How long until the status line would read differently (the uptime or the countdown ticks), or
 * null when it only changes with the next session event. The tray rebuilds its menu then.
 */
export function nextMenuRefreshMs(session: SessionView, now: number): number | null {
  return sessionRefreshMs(session, now);
}

/** nextMenuRefreshMs over every session the menu lists: the soonest. */
export function nextMenuRefreshMsOf(
  input: Pick<TrayMenuInput, "session" | "sessions">,
  now: number,
): number | null {
  const waits = heldSessions(input).flatMap((view) => sessionRefreshMs(view, now) ?? []);
  return waits.length > 0 ? Math.min(...waits) : null;
}

function sessionRefreshMs(session: SessionView, now: number): number | null {
  if (session.phase === "reconnecting" && session.retryAt !== null && session.retryAt > now)
    return (session.retryAt - now) % 1000 || 1000;
  if (session.phase === "connected" && session.connectedSince !== null) {
    const uptime = Math.max(0, now - session.connectedSince);
    const unit = uptime < 60_000 ? 1000 : uptime < 86_400_000 ? 60_000 : 3_600_000;
    return unit - (uptime % unit);
  }
  return null;
}

export interface TrayIcon {
  /** File name under resources/tray; Electron picks the `@2x` file beside it on HiDPI screens. */
  file: string;
  /** macOS template image: black and alpha only, tinted by the menu bar. */
  template: boolean;
  tooltip: string;
}

const TOOLTIP: Record<SessionPhase, string> = {
  disconnected: "Backhaul: not connected",
  connecting: "Backhaul: connecting…",
  connected: "Backhaul: connected",
  reconnecting: "Backhaul: reconnecting…",
  error: "Backhaul: error",
};

/**
 * The one phase the icon shows for every session: trouble on the way first (reconnecting, then
 * connecting), then connected if any is, then an error left to read.
 */
export function trayPhase(input: Pick<TrayMenuInput, "session" | "sessions">): SessionPhase {
  const sessions = heldSessions(input);
  if (sessions.length === 0) return input.session.phase;
  const order: readonly SessionPhase[] = ["reconnecting", "connecting", "connected", "error"];
  return order.find((phase) => sessions.some((view) => view.phase === phase)) ?? "disconnected";
}

export function trayIconFor(phase: SessionPhase, platform: NodeJS.Platform): TrayIcon {
  const template = platform === "darwin";
  return { file: template ? `${phase}Template.png` : `${phase}.png`, template, tooltip: TOOLTIP[phase] };
}

/** The icon files one phase needs on every OS, for the resources check and the icon script. */
export function trayIconFiles(phase: SessionPhase): string[] {
  return [`${phase}.png`, `${phase}@2x.png`, `${phase}Template.png`, `${phase}Template@2x.png`];
}

export const SESSION_PHASES: readonly SessionPhase[] = [
  "disconnected",
  "connecting",
  "connected",
  "reconnecting",
  "error",
];

function truncate(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
