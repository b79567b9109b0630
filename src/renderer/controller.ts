/**
 * Between the bridge and the stores: events from main go to the store of their concern, and the
 * user's actions become requests whose answers land in the stores. Components read stores and
 * call these actions; none of them talks to the bridge.
 */
import { createContext, useContext } from "react";
import type { AppEvent, DiagnoseRequest, SessionView, Settings } from "../shared/api.js";
import type { Bridge } from "./bridge.js";
import { useDiagnosticsStore } from "./state/diagnostics-store.js";
import { addSample, clearSamples } from "./state/samples-store.js";
import {
  addPrompt,
  appendLog,
  removePrompt,
  setNotice,
  updateSessions,
  useSessionStore,
} from "./state/session-store.js";
import { useSettingsStore } from "./state/settings-store.js";
import {
  abandonSnapshot,
  applySnapshot,
  beginSnapshot,
  enqueueDnsDelta,
  enqueueFlowDelta,
} from "./state/tables-store.js";
import { useTargetsStore } from "./state/targets-store.js";

export class Controller {
  constructor(private readonly bridge: Bridge) {}

  private get api() {
    return this.bridge.api;
  }

  /** Subscribes to main and loads everything; returns the function that stops it. */
  start(): () => void {
    const offEvents = this.api.subscribe((event) => this.onEvent(event));
    let wasLost = false;
    useSessionStore.setState({ link: this.bridge.linkState() });
    const offLink = this.bridge.onLinkChange((link) => {
      useSessionStore.setState({ link });
      if (link === "lost") wasLost = true;
      if (link === "open" && wasLost) {
        wasLost = false;
        void this.loadAll();
      }
    });
    void this.loadAll();
    return () => {
      offEvents();
      offLink();
    };
  }

  async loadAll(): Promise<void> {
    await Promise.all([
      this.run(async () => useSessionStore.setState({ info: await this.api.request("app:info", null) })),
      this.run(async () => this.setSession(await this.api.request("session:get", null))),
      this.run(async () => updateSessions({ sessions: await this.api.request("sessions:list", null) })),
      this.run(async () =>
        useSessionStore.setState({ capture: await this.api.request("capture:get", null) }),
      ),
      this.loadTables(),
      this.refreshTargets(),
      this.run(async () =>
        useSettingsStore.setState({ settings: await this.api.request("settings:get", null) }),
      ),
    ]);
  }

  async loadTables(): Promise<void> {
    beginSnapshot();
    try {
      applySnapshot(await this.api.request("tables:snapshot", null));
    } catch (error) {
      abandonSnapshot();
      setNotice(messageOf(error));
    }
  }

  async refreshTargets(): Promise<void> {
    useTargetsStore.setState({ loading: true });
    try {
      useTargetsStore.setState({ list: await this.api.request("targets:list", null), error: null });
    } catch (error) {
      useTargetsStore.setState({ error: messageOf(error) });
    } finally {
      useTargetsStore.setState({ loading: false });
    }
  }

  /** Starts a session to the target beside the running ones, and shows it. */
  async connect(targetId: string): Promise<void> {
    setNotice(null);
    useSessionStore.setState({ dismissedError: null });
    this.select(targetId);
    await this.run(() => this.api.request("session:connect", { targetId }));
  }

  /** Ends the target's session; without one, the session shown. */
  async disconnect(targetId = useSessionStore.getState().session.target?.id): Promise<void> {
    await this.run(() =>
      this.api.request("session:disconnect", targetId === undefined ? null : { targetId }),
    );
  }

  /** Shows the target's session (null: the latest; PICKING: the target picker, for one more). */
  select(selected: string | null): void {
    const before = useSessionStore.getState().session.target?.id;
    updateSessions({ selected });
    // The header's chart is the shown session's: another session's samples do not continue it.
    if (useSessionStore.getState().session.target?.id !== before) clearSamples();
  }

  /** "Record packets": starts or stops the capture of the shown session's packets. */
  async toggleCapture(): Promise<void> {
    const { capture, session } = useSessionStore.getState();
    const targetId = session.target?.id;
    await this.run(async () =>
      useSessionStore.setState({
        capture: capture.recording
          ? await this.api.request("capture:stop", null)
          : await this.api.request("capture:start", targetId === undefined ? null : { targetId }),
      }),
    );
  }

  /** Leaves an error view for the target picker; main forgets the session, its error stays to read. */
  dismissError(): void {
    const { session, sessions } = useSessionStore.getState();
    useSessionStore.setState({ dismissedError: session });
    const targetId = session.target?.id;
    if (targetId !== undefined && sessions.some((view) => view.target?.id === targetId))
      void this.run(() => this.api.request("session:disconnect", { targetId }));
    void this.refreshTargets();
  }

  async saveSettings(settings: Settings): Promise<boolean> {
    useSettingsStore.setState({ saving: true, error: null });
    try {
      const saved = await this.api.request("settings:set", settings);
      useSettingsStore.setState({ settings: saved, savedAt: Date.now() });
      return true;
    } catch (error) {
      useSettingsStore.setState({ error: messageOf(error) });
      return false;
    } finally {
      useSettingsStore.setState({ saving: false });
    }
  }

  async diagnose(request: DiagnoseRequest): Promise<void> {
    useDiagnosticsStore.setState({ running: true, error: null });
    try {
      useDiagnosticsStore.setState({ result: await this.api.request("diagnose:run", request) });
    } catch (error) {
      useDiagnosticsStore.setState({ error: messageOf(error), result: null });
    } finally {
      useDiagnosticsStore.setState({ running: false });
    }
  }

  async answerPrompt(id: string, answer: string | null): Promise<void> {
    removePrompt(id);
    await this.run(() => this.api.request("prompt:answer", { id, answer }));
  }

  private onEvent(event: AppEvent): void {
    switch (event.type) {
      case "session": {
        const before = useSessionStore.getState().session?.phase;
        this.setSession(event.session);
        // The picker shows "used … ago": refresh it when a session has just ended.
        if (event.session.phase === "disconnected" && before !== "disconnected") void this.refreshTargets();
        break;
      }
      case "sessions":
        updateSessions({ sessions: event.sessions });
        break;
      case "flows":
        enqueueFlowDelta(event.delta);
        break;
      case "dns":
        enqueueDnsDelta(event.delta);
        break;
      case "tables-reset":
        void this.loadTables();
        break;
      case "sample": {
        // Each session sends its own; the header charts the one shown.
        const shown = useSessionStore.getState().session.target?.id;
        if (event.sample.session === undefined || event.sample.session === shown) addSample(event.sample);
        break;
      }
      case "prompt":
        addPrompt(event.prompt);
        break;
      case "log":
        appendLog(event.line);
        break;
      case "capture":
        useSessionStore.setState({ capture: event.capture });
        break;
    }
  }

  private setSession(latest: SessionView): void {
    updateSessions({ latest });
  }

  /** Runs a request whose failure the user should read. */
  private async run(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (error) {
      setNotice(messageOf(error));
    }
  }
}

/** What main said, without Electron's "Error invoking remote method 'x': Error:" wrapping. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^Error invoking remote method '[^']*': /, "").replace(/^(\w*Error): /, "");
}

export const ControllerContext = createContext<Controller | null>(null);

export function useController(): Controller {
  const controller = useContext(ControllerContext);
  if (!controller) throw new Error("useController outside ControllerContext");
  return controller;
}
