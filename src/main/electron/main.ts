/**
 * Electron main process: thin by design. The app lives in the tray (closing the window hides it;
 * the session goes on), one instance only; every decision it acts on is a pure module beside it
 * (tray-menu, link-notices, security, login-item, paths), tested under plain Node.
 */
import { app, BrowserWindow, dialog, Notification, session as electronSession } from "electron";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AppEvent, Settings } from "../../shared/api.js";
import type { AppBackend } from "../app/backend.js";
import { AppController } from "../app/controller.js";
import { forwardEvents, registerIpc } from "./ipc.js";
import { INITIAL_NOTICE_STATE, linkNotice, type LinkNoticeState } from "./link-notices.js";
import { applyAutostartFile, loginItemPlan, startsHidden, type LoginItemContext } from "./login-item.js";
import { appPaths, type AppPaths } from "./paths.js";
import { rendererUrl } from "./security.js";
import { AppTray } from "./tray.js";
import { splitTargets, type TrayAction } from "./tray-menu.js";
import { createMainWindow, hardenContents, hardenSession } from "./window.js";
import { tuneHeapForStreaming } from "../../helper/engines/heap-tuning.js";

/** How long Quit waits for the session to restore the remote before quitting anyway. */
const QUIT_TIMEOUT_MS = 10_000;
/** Opening the tray menu refreshes the target list (which may ask `gh`), at most this often. */
const TARGETS_REFRESH_MS = 30_000;

const platform = process.platform;

// Main relays the link's bytes (heap-tuning.ts says why).
tuneHeapForStreaming();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.setAppUserModelId("dev.backhaul.app");
  app.on("web-contents-created", (_event, contents) => hardenContents(contents));
  // The app lives in the tray: closing its last window does not quit it.
  app.on("window-all-closed", () => undefined);
  app
    .whenReady()
    .then(start)
    .catch((error: unknown) => fail(error));
}

async function start(): Promise<void> {
  hardenSession(electronSession.defaultSession);
  const paths = appPaths({
    isPackaged: app.isPackaged,
    mainDir: __dirname,
    resourcesPath: process.resourcesPath,
  });
  const backend = await AppController.create({
    dataDir: app.getPath("userData"),
    shell: "electron",
    distDir: paths.distDir,
  });
  const shell = new Shell(backend, paths);
  await shell.start();
}

class Shell {
  private window: BrowserWindow | null = null;
  private tray: AppTray | null = null;
  private settings: Settings | null = null;
  /** Each session's last phase for its link notices, by target id. */
  private noticeStates = new Map<string, LinkNoticeState>();
  private targetsFetchedAt = 0;
  private quit: "running" | "closing" | "done" = "running";

  constructor(
    private readonly backend: AppBackend,
    private readonly paths: AppPaths,
  ) {}

  async start(): Promise<void> {
    registerIpc({
      backend: this.backend,
      rendererUrl: rendererUrl(this.paths.rendererIndex),
      platform,
      onResult: (channel, result) => {
        if (channel === "settings:set" || channel === "settings:get") this.followSettings(result as Settings);
      },
    });
    forwardEvents(this.backend, () => this.window?.webContents ?? null);
    this.backend.subscribe((event) => this.onEvent(event));

    const [session, sessions, settings] = await Promise.all([
      this.backend.handle("session:get", null),
      this.backend.handle("sessions:list", null),
      this.backend.handle("settings:get", null),
    ]);
    for (const view of sessions)
      if (view.target) this.noticeStates.set(view.target.id, { phase: view.phase, dropped: false });
    this.tray = new AppTray({
      iconDir: this.paths.iconDir,
      platform,
      state: { session, sessions, recents: [], available: [], startAtLogin: settings.startAtLogin },
      onAction: (action) => this.onTrayAction(action),
      onMenuWillShow: () => {
        if (Date.now() - this.targetsFetchedAt > TARGETS_REFRESH_MS) this.refreshTargets();
      },
    });
    this.followSettings(settings);
    this.refreshTargets();

    app.on("second-instance", () => this.showWindow());
    app.on("activate", () => this.showWindow());
    app.on("before-quit", (event) => this.beforeQuit(event));

    const atLogin = platform === "darwin" && app.getLoginItemSettings().wasOpenedAtLogin;
    if (!startsHidden(process.argv, atLogin)) this.showWindow();
  }

  private onEvent(event: AppEvent): void {
    if (event.type === "session") this.tray?.update({ session: event.session });
    if (event.type !== "sessions") return;
    // Each session's link is announced on its own: one dropping says nothing of the others.
    const held = new Map<string, LinkNoticeState>();
    let connected = false;
    for (const view of event.sessions) {
      if (!view.target) continue;
      const before = this.noticeStates.get(view.target.id) ?? INITIAL_NOTICE_STATE;
      const { notice, state } = linkNotice(before, view);
      held.set(view.target.id, state);
      if (notice) this.notify(notice.title, notice.body);
      if (view.phase === "connected" && before.phase !== "connected") connected = true;
    }
    this.noticeStates = held;
    this.tray?.update({ sessions: event.sessions });
    // A connect moves its target to the top of the recents.
    if (connected) this.refreshTargets();
  }

  private onTrayAction(action: TrayAction): void {
    switch (action.kind) {
      case "connect":
        this.run(this.backend.handle("session:connect", { targetId: action.targetId }));
        return;
      case "disconnect":
        this.run(
          this.backend.handle(
            "session:disconnect",
            action.targetId === undefined ? null : { targetId: action.targetId },
          ),
        );
        return;
      case "show-window":
        this.showWindow();
        return;
      case "set-start-at-login":
        this.run(this.setStartAtLogin(action.enabled));
        return;
      case "quit":
        app.quit();
        return;
    }
  }

  private async setStartAtLogin(enabled: boolean): Promise<void> {
    const current = this.settings ?? (await this.backend.handle("settings:get", null));
    this.followSettings(await this.backend.handle("settings:set", { ...current, startAtLogin: enabled }));
  }

  /** Keeps the OS login item and the tray's checkbox in step with the saved settings. */
  private followSettings(settings: Settings): void {
    const changed = this.settings?.startAtLogin !== settings.startAtLogin;
    this.settings = settings;
    if (!changed) return;
    this.tray?.update({ startAtLogin: settings.startAtLogin });
    const plan = loginItemPlan(this.loginItemContext(), settings.startAtLogin);
    try {
      if (plan.kind === "electron") app.setLoginItemSettings(plan.settings);
      else if (plan.kind === "autostart-file") applyAutostartFile(plan);
      else console.warn(`backhaul: ${plan.reason}`);
    } catch (error) {
      console.error(`backhaul: could not change the login item: ${message(error)}`);
    }
  }

  private loginItemContext(): LoginItemContext {
    return {
      platform,
      isPackaged: app.isPackaged,
      execPath: process.execPath,
      appPath: app.getAppPath(),
      appImage: process.env.APPIMAGE,
      home: homedir(),
      xdgConfigHome: process.env.XDG_CONFIG_HOME,
    };
  }

  private refreshTargets(): void {
    this.targetsFetchedAt = Date.now();
    this.run(
      this.backend.handle("targets:list", null).then((list) => {
        this.tray?.update(splitTargets(list));
      }),
    );
  }

  private showWindow(): void {
    if (this.quit !== "running") return;
    if (!this.window || this.window.isDestroyed()) {
      const window = createMainWindow({
        paths: this.paths,
        mayClose: () => this.quit !== "running",
        onHide: () => app.dock?.hide(),
      });
      window.once("ready-to-show", () => window.show());
      window.on("closed", () => {
        if (this.window === window) this.window = null;
      });
      this.window = window;
    } else {
      if (this.window.isMinimized()) this.window.restore();
      this.window.show();
    }
    void app.dock?.show();
    this.window.focus();
  }

  private notify(title: string, body: string): void {
    if (!Notification.isSupported()) return;
    const notification = new Notification({ title, body, icon: join(this.paths.iconDir, "icon.png") });
    notification.on("click", () => this.showWindow());
    notification.show();
  }

  /** Quit disconnects first, so the remote's routes and resolver are restored; then the app quits. */
  private beforeQuit(event: Electron.Event): void {
    if (this.quit === "done") return;
    event.preventDefault();
    if (this.quit === "closing") return;
    this.quit = "closing";
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        console.error(
          `backhaul: the session did not close within ${QUIT_TIMEOUT_MS / 1000} s; quitting anyway`,
        );
        resolve();
      }, QUIT_TIMEOUT_MS);
    });
    void Promise.race([this.backend.close(), timeout])
      .catch((error: unknown) => console.error(`backhaul: closing the session failed: ${message(error)}`))
      .finally(() => {
        clearTimeout(timer);
        this.quit = "done";
        this.tray?.destroy();
        app.quit();
      });
  }

  /** Tray actions run detached: their outcome arrives as session events; a failure is logged. */
  private run(work: Promise<unknown>): void {
    work.catch((error: unknown) => console.error(`backhaul: ${message(error)}`));
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The user started the app and would otherwise see nothing at all: say why in a dialog. */
function fail(error: unknown): void {
  console.error(`backhaul: could not start: ${message(error)}`);
  dialog.showErrorBox("Backhaul could not start", message(error));
  app.exit(1);
}
