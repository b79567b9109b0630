/**
 * Where the shell finds its files, in development (`electron .` or `electron dist/main/electron.cjs`)
 * and when packaged by electron-builder (electron-builder.yml puts the agent, the helper and the
 * icons beside app.asar, in process.resourcesPath). Resolved from the bundle's own directory rather
 * than app.getAppPath(), which is dist/main when Electron is started with the file itself.
 */
import { join } from "node:path";

export interface AppPaths {
  /** dist/renderer/index.html, loaded with loadFile. */
  rendererIndex: string;
  preload: string;
  /** Holds agent/backhaul-agent.cjs, agent/backhaul_native.node and helper-local.mjs. */
  distDir: string;
  /** Holds tray/<phase>.png and icon.png. */
  iconDir: string;
}

export function appPaths(options: { isPackaged: boolean; mainDir: string; resourcesPath: string }): AppPaths {
  const { isPackaged, mainDir, resourcesPath } = options;
  const distDir = join(mainDir, "..");
  return {
    rendererIndex: join(distDir, "renderer", "index.html"),
    preload: join(mainDir, "preload.cjs"),
    distDir: isPackaged ? resourcesPath : distDir,
    iconDir: isPackaged ? join(resourcesPath, "icons") : join(distDir, "..", "resources"),
  };
}
