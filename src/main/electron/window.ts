/**
 * The window and the rules every web contents of the app lives under: sandboxed, isolated, no Node,
 * no navigation, no new windows, no permissions, and the renderer's CSP as a response header.
 */
import { BrowserWindow, shell, type Session, type WebContents } from "electron";
import { join } from "node:path";
import type { AppPaths } from "./paths.js";
import { externalLinkFor, policyHeadersFor } from "./security.js";

export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    const responseHeaders = policyHeadersFor(details);
    callback(responseHeaders ? { responseHeaders } : {});
  });
}

/** Applied to every web contents the app creates (app "web-contents-created"). */
export function hardenContents(contents: WebContents): void {
  // The renderer is a single page: any navigation is an attack or a bug. In-page (hash) changes
  // do not raise these events.
  contents.on("will-navigate", (event) => event.preventDefault());
  contents.on("will-frame-navigate", (event) => event.preventDefault());
  contents.on("will-redirect", (event) => event.preventDefault());
  contents.on("will-attach-webview", (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const link = externalLinkFor(url);
    if (link) void shell.openExternal(link);
    return { action: "deny" };
  });
}

export interface MainWindowOptions {
  paths: AppPaths;
  /** While false, closing the window hides it: the app lives in the tray. */
  mayClose: () => boolean;
  onHide: () => void;
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const { paths } = options;
  const window = new BrowserWindow({
    width: 1100,
    height: 720,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: "Backhaul",
    icon: process.platform === "linux" ? join(paths.iconDir, "icon.png") : undefined,
    webPreferences: {
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  window.on("close", (event) => {
    if (options.mayClose()) return;
    event.preventDefault();
    window.hide();
    options.onHide();
  });
  void window.loadFile(paths.rendererIndex);
  return window;
}
