/**
 * Electron main process: thin by design, so everything else runs and is tested under plain Node.
 * The tray, targets and live tables arrive with the desktop issue (#6).
 */
import { app, BrowserWindow, ipcMain, shell } from "electron";
import { join } from "node:path";
import { isRequestChannel, type AppInfo } from "../../shared/api.js";
import { VERSION } from "../../shared/version.js";

if (!app.requestSingleInstanceLock()) app.quit();

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1100,
    height: 720,
    title: "Backhaul",
    webPreferences: {
      preload: join(__dirname, "preload.cjs"),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  // Navigation away from the bundled renderer and new windows are refused; links open outside.
  window.webContents.on("will-navigate", (event) => event.preventDefault());
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith("https://")) void shell.openExternal(url);
    return { action: "deny" };
  });
  void window.loadFile(join(__dirname, "..", "renderer", "index.html"));
  return window;
}

ipcMain.handle("app:info", (event): AppInfo => {
  if (!isRequestChannel("app:info") || event.senderFrame === null) throw new Error("refused");
  return { version: VERSION, platform: process.platform };
});

app.on("second-instance", () => {
  const [window] = BrowserWindow.getAllWindows();
  if (window) {
    if (window.isMinimized()) window.restore();
    window.focus();
  }
});

void app.whenReady().then(() => {
  createWindow();
  app.on("activate", () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});
