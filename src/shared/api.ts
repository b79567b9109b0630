/**
 * The renderer <-> main API: one typed map shared by the preload (Electron) and the browser-mode
 * bridge, so a renamed call fails to compile on both sides. Grows with the desktop issue (#6).
 */
export type SessionState = "disconnected" | "connecting" | "connected" | "reconnecting" | "error";

export interface AppInfo {
  version: string;
  platform: string;
}

export interface RequestChannels {
  "app:info": { request: void; response: AppInfo };
}

export type RequestChannel = keyof RequestChannels;

/** What the preload exposes on `window.backhaul`. */
export interface BackhaulApi {
  request<C extends RequestChannel>(
    channel: C,
    payload: RequestChannels[C]["request"],
  ): Promise<RequestChannels[C]["response"]>;
}

export const REQUEST_CHANNELS: readonly RequestChannel[] = ["app:info"];

export function isRequestChannel(value: unknown): value is RequestChannel {
  return typeof value === "string" && (REQUEST_CHANNELS as readonly string[]).includes(value);
}
