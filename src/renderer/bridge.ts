import type { AppInfo, BackhaulApi } from "../shared/api.js";

declare global {
  interface Window {
    backhaul?: BackhaulApi;
  }
}

/** App info from Electron's preload, or from the browser-mode server's API. */
export async function loadAppInfo(): Promise<AppInfo> {
  if (window.backhaul) return window.backhaul.request("app:info", undefined);
  const response = await fetch("./api/app-info", { credentials: "same-origin" });
  if (!response.ok) throw new Error(`app info: HTTP ${response.status}`);
  return (await response.json()) as AppInfo;
}
