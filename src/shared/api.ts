/**
 * The renderer <-> main API: one typed map shared by the preload (Electron) and the browser-mode
 * WebSocket bridge, so a renamed call fails to compile on both sides. Every request payload is
 * checked by `validateRequest` (api-validate.ts) in main before it reaches the broker: the
 * renderer shows web content and is treated as untrusted.
 */
import type { RemoteDiagnosis } from "./diagnose-frames.js";
import type { DnsRow } from "./dns-row.js";
import type { RemoteDnsStatus } from "./remote-dns-status.js";
import type { FlowRow, TableDelta } from "./flow-row.js";

export type SessionPhase = "disconnected" | "connecting" | "connected" | "reconnecting" | "error";

/** The steps of a connect, in order; the window shows them as progress. */
export type ConnectStep = "start" | "ssh" | "upload" | "agent" | "routes" | "dns";
export const CONNECT_STEPS: readonly ConnectStep[] = ["start", "ssh", "upload", "agent", "routes", "dns"];

export interface AppInfo {
  version: string;
  platform: string;
  /** "electron" or "browser": the renderer hides what only the desktop app can do. */
  shell: "electron" | "browser";
}

export type TargetKind = "codespace" | "ssh" | "exec" | "sandbox";

/** What the user can pick. `id` is what `session:connect` takes: "codespace:NAME", an ssh alias or URL, "sandbox". */
export interface TargetSummary {
  id: string;
  kind: TargetKind;
  /** What to show first: the codespace's display name, the Host alias, "This computer (sandbox)". */
  label: string;
  /** user@host:port, or owner/repo for a codespace. */
  detail: string;
  codespace: {
    name: string;
    repository: string;
    branch: string | null;
    state: string;
    machine: string | null;
  } | null;
  /** When the user last connected to it (ms since epoch), or null. */
  lastUsedAt: number | null;
}

export interface TargetList {
  targets: TargetSummary[];
  /** Recently used target ids, newest first (they may no longer be listed). */
  recents: string[];
  /** A provider that failed (no `gh`, an unreadable ssh config): shown, not fatal. */
  warnings: string[];
}

export interface SessionView {
  phase: SessionPhase;
  /** The target of the current or last session. */
  target: { id: string; label: string } | null;
  /** While connecting: the step in progress. */
  step: ConnectStep | null;
  /** Connect attempt number, from 1. */
  attempt: number;
  /** ms since epoch, while connected. */
  connectedSince: number | null;
  /** While reconnecting: when the next attempt starts (ms since epoch). */
  retryAt: number | null;
  /** Why it is reconnecting, disconnected or in error: one sentence saying what to do. */
  message: string | null;
  /** Prefixes advertised to the remote. */
  advertised: string[];
  /** The entrance the session's agent runs (after any fallback), or null before it started. */
  entrance: EntranceKind | null;
  /**
   * The remote's resolver as its agent reports it: mode, setup and, for split mode's forwarder,
   * where names went (through this computer, through the remote's own resolver, failures).
   * null: not connected, or not reported yet.
   */
  remoteDns: RemoteDnsStatus | null;
}

/** No session yet: what the window shows before the first connect. */
export const IDLE_SESSION: SessionView = {
  phase: "disconnected",
  target: null,
  step: null,
  attempt: 0,
  connectedSince: null,
  retryAt: null,
  message: null,
  advertised: [],
  entrance: null,
  remoteDns: null,
};

/** One sample of the link, sent about once a second while a session exists. */
export interface LinkSample {
  /** ms since epoch */
  at: number;
  /** Bytes per second through the NAT, remote → destination and back. */
  upBps: number;
  downBps: number;
  /** Link round-trip time from keepalives, or null before the first. */
  rttMs: number | null;
  openFlows: number;
  /** Totals since the session started. */
  upBytes: number;
  downBytes: number;
  /** The sample's session, by its target's id: each session sends its own. */
  session?: string;
}

/**
 * How the remote's traffic enters the link: the TUN device (every program; root, by sudo if need
 * be) or the proxy (SOCKS5 and HTTP on the remote's loopback; no root). `auto`: the TUN when it
 * can start, else the proxy.
 */
export type EntranceMode = "auto" | "tun" | "proxy";
export type EntranceKind = "tun" | "proxy";
export const ENTRANCE_MODES: readonly EntranceMode[] = ["auto", "tun", "proxy"];

export function isEntranceMode(value: unknown): value is EntranceMode {
  return typeof value === "string" && (ENTRANCE_MODES as readonly string[]).includes(value);
}

/** What a user on the remote runs so that programs there use the proxy entrance. */
export const PROXY_ENV_HINT = ". ~/.config/backhaul/proxy.env";

export interface Settings {
  /** Extra prefixes to advertise, as CIDR. */
  routes: string[];
  /** Prefixes never advertised, as CIDR. */
  excludes: string[];
  /**
   * "split": names under this computer's search and VPN domains and `dnsDomains` (and reverse
   * lookups of the advertised prefixes) resolve through this computer, the rest on the remote;
   * "all": every name; "off": none.
   */
  dns: "all" | "split" | "off";
  /** The user's own split-DNS domains ("corp.example"), beside this computer's. */
  dnsDomains: string[];
  /** Let the remote reach this computer itself (loopback, its own addresses). */
  allowLocal: boolean;
  startAtLogin: boolean;
  /** `exec:` targets saved with a name; the picker lists them beside SSH hosts and codespaces. */
  execTargets: SavedExecTarget[];
  /** The entrance a connect asks for; applies at the next connect. */
  entrance: EntranceMode;
  /**
   * This computer reaches the remote's networks (applies at the next connect): prefixes routed
   * into a TUN here (`--remote-route`, needs the helper elevated), names under `remoteDnsDomains`
   * resolved with the remote's resolver (`--remote-dns-domain`), and a SOCKS5 and HTTP proxy here
   * on `socks`, [ADDR:]PORT as `--socks` takes it (null: none).
   */
  remoteRoutes: string[];
  remoteDnsDomains: string[];
  socks: string | null;
}

/** A command (what follows `exec:`) whose stdin and stdout reach a shell on the remote. */
export interface SavedExecTarget {
  name: string;
  command: string;
}

export const MAX_EXEC_TARGETS = 100;

export const DEFAULT_SETTINGS: Settings = {
  routes: [],
  excludes: [],
  dns: "split",
  dnsDomains: [],
  allowLocal: false,
  startAtLogin: false,
  execTargets: [],
  entrance: "auto",
  remoteRoutes: [],
  remoteDnsDomains: [],
  socks: null,
};

export interface DiagnoseRequest {
  /** A host name or an IPv4/IPv6 address. */
  host: string;
  /** TCP port to try a real connect to. */
  port: number;
}

export interface DiagnoseResult {
  host: string;
  /** The DNS answer this computer gives for a name (absent for an address). */
  dns: { addresses: string[]; error: string | null; latencyMs: number } | null;
  /** The address the checks below used, or null when the name did not resolve. */
  address: string | null;
  /** The advertised prefix that covers it, or null: the remote would not route it here. */
  prefix: string | null;
  /** The local interface and gateway this computer would send it through. */
  route: { interface: string | null; gateway: string | null } | null;
  /** Whether the NAT's egress policy lets the remote reach it, and why not. */
  policy: { allowed: boolean; reason: string | null };
  /** A real TCP connect from this computer, as the NAT would make it. */
  connect: { ok: boolean; latencyMs: number; error: string | null } | null;
  /** The remote's side, asked of its agent over the link; null when it was not asked. */
  remote: RemoteSide | null;
  /** Why the remote's side is missing (no session, an older agent, no answer), or null. */
  remoteError: string | null;
  /** The session's remote DNS (SessionView.remoteDns): mode, setup, split's counts; null without one. */
  remoteDns: RemoteDnsStatus | null;
  /** The verdict in one word, for programs (`backhaul diagnose --json`); `summary` says it for people. */
  verdict: DiagnoseVerdict;
  /** One sentence: the verdict and what to do. */
  summary: string;
}

/** What the remote's agent found (src/shared/diagnose-frames.ts), checked and sanitised. */
export type RemoteSide = Omit<RemoteDiagnosis, "id">;

export type DiagnoseVerdict =
  /** A connect works (from the remote when it was asked, else from this computer). */
  | "reachable"
  /** Neither end resolves the name. */
  | "unresolvable"
  /** This computer resolves the name, the remote does not (its question does not come here). */
  | "remote-dns"
  /** The address is outside the advertised prefixes, or excluded. */
  | "not-advertised"
  /** This computer's own, loopback, link-local or non-unicast address, refused by the access policy. */
  | "refused-by-policy"
  /** The remote routes the address elsewhere than the tunnel (an overlap, a route of its own). */
  | "remote-route"
  /** The destination refused the connection: nothing listens, or a firewall rejects it. */
  | "refused"
  /** No answer within the timeout. */
  | "timeout"
  /** Any other failure to connect. */
  | "unreachable";

/** A question the broker needs the user to answer (SSH host keys, key passphrases, sudo's password). */
export interface Prompt {
  id: string;
  kind: "host-key" | "passphrase" | "sudo-password";
  /** What to ask, complete: "The host key of devbox is new: ssh-ed25519 SHA256:… Trust it?" */
  message: string;
}

export interface PromptAnswer {
  id: string;
  /** host-key: "yes" or "no"; passphrase, sudo-password: the secret; null: cancelled. */
  answer: string | null;
}

/**
 * The session's packet capture ("Record packets"): a pcapng file in the user's Downloads folder,
 * written by main. The window never names the path: a web page must not choose where main writes.
 */
export interface CaptureView {
  recording: boolean;
  /** The file of the current or last capture, or null before the first. */
  path: string | null;
  /** Bytes in the file so far. */
  bytes: number;
  /** Why the last capture stopped ("capture stopped at 12 MB (limit)"), or null. */
  message: string | null;
  /** The recorded session's name (one capture at a time, of any of the sessions). */
  session?: string;
}

export const IDLE_CAPTURE: CaptureView = { recording: false, path: null, bytes: 0, message: null };

export interface TablesSnapshot {
  flows: FlowRow[];
  dns: DnsRow[];
}

export interface RequestChannels {
  "app:info": { request: null; response: AppInfo };
  "targets:list": { request: null; response: TargetList };
  /** The latest session started (the one `session` events follow). */
  "session:get": { request: null; response: SessionView };
  /** Every session the app holds, oldest first: running ones, and ended ones in error. */
  "sessions:list": { request: null; response: SessionView[] };
  /**
   * Starts a session to the target beside any running ones (one per target: a target already
   * running answers with its view); the events report its progress.
   */
  "session:connect": { request: { targetId: string }; response: SessionView };
  /** Ends the target's session (one in error: forgets it); null ends every session. */
  "session:disconnect": { request: SessionRef | null; response: SessionView };
  "tables:snapshot": { request: null; response: TablesSnapshot };
  "settings:get": { request: null; response: Settings };
  "settings:set": { request: Settings; response: Settings };
  "diagnose:run": { request: DiagnoseRequest; response: DiagnoseResult };
  "prompt:answer": { request: PromptAnswer; response: null };
  "capture:get": { request: null; response: CaptureView };
  /** Starts recording a connected session's packets (null: the latest) into a new file in Downloads. */
  "capture:start": { request: SessionRef | null; response: CaptureView };
  "capture:stop": { request: null; response: CaptureView };
}

/** A session, by its target's id (sessions are one per target). */
export interface SessionRef {
  targetId: string;
}

export type RequestChannel = keyof RequestChannels;
export type RequestOf<C extends RequestChannel> = RequestChannels[C]["request"];
export type ResponseOf<C extends RequestChannel> = RequestChannels[C]["response"];

/** What main pushes to the renderer. Table deltas follow a `tables:snapshot` the renderer fetched. */
export type AppEvent =
  /** The latest session started changed (what `session:get` answers). */
  | { type: "session"; session: SessionView }
  /** Any session changed, started or was forgotten: every session the app holds. */
  | { type: "sessions"; sessions: SessionView[] }
  | { type: "flows"; delta: TableDelta<FlowRow> }
  | { type: "dns"; delta: TableDelta<DnsRow> }
  /** The tables were emptied (a new session): fetch a new snapshot. */
  | { type: "tables-reset" }
  | { type: "sample"; sample: LinkSample }
  | { type: "prompt"; prompt: Prompt }
  | { type: "capture"; capture: CaptureView }
  | { type: "log"; line: string };

/** What the preload exposes on `window.backhaul`, and what the browser bridge implements. */
export interface BackhaulApi {
  request<C extends RequestChannel>(channel: C, payload: RequestOf<C>): Promise<ResponseOf<C>>;
  /** Calls `listener` for every event; returns the unsubscribe function. */
  subscribe(listener: (event: AppEvent) => void): () => void;
}

export const REQUEST_CHANNELS = [
  "app:info",
  "targets:list",
  "session:get",
  "sessions:list",
  "session:connect",
  "session:disconnect",
  "tables:snapshot",
  "settings:get",
  "settings:set",
  "diagnose:run",
  "prompt:answer",
  "capture:get",
  "capture:start",
  "capture:stop",
] as const satisfies readonly RequestChannel[];

/** The Electron IPC channel events travel on. */
export const EVENT_CHANNEL = "backhaul:event";

export function isRequestChannel(value: unknown): value is RequestChannel {
  return typeof value === "string" && (REQUEST_CHANNELS as readonly string[]).includes(value);
}

/** The browser bridge's wire format (JSON over one WebSocket). */
export type BridgeClientMessage = { id: number; channel: RequestChannel; payload: unknown };
export type BridgeServerMessage =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string } | { event: AppEvent };
