/**
 * The renderer's calls and events over Electron IPC: one handler per request channel, each
 * refusing callers other than the app's own page and passing the payload through dispatchRequest,
 * which validates it before the backend sees it.
 */
import { ipcMain, type WebContents } from "electron";
import { EVENT_CHANNEL, REQUEST_CHANNELS, type RequestChannel } from "../../shared/api.js";
import { dispatchRequest, type AppBackend } from "../app/backend.js";
import { isTrustedSender } from "./security.js";

export interface IpcOptions {
  backend: AppBackend;
  /** The file:// URL of dist/renderer/index.html. */
  rendererUrl: string;
  platform: NodeJS.Platform;
  /** Sees each answered call, so the shell can follow what the window changed (settings). */
  onResult?: (channel: RequestChannel, result: unknown) => void;
}

/** Registers the handlers; returns the function that removes them. */
export function registerIpc(options: IpcOptions): () => void {
  const { backend, rendererUrl, platform, onResult } = options;
  for (const channel of REQUEST_CHANNELS) {
    ipcMain.handle(channel, async (event, payload: unknown) => {
      if (!isTrustedSender(event.senderFrame, rendererUrl, platform))
        throw new Error(`${channel} refused: the call did not come from Backhaul's own window`);
      const result = await dispatchRequest(backend, channel, payload);
      onResult?.(channel, result);
      return result;
    });
  }
  return () => {
    for (const channel of REQUEST_CHANNELS) ipcMain.removeHandler(channel);
  };
}

/** Sends every backend event to the window, while there is one; returns the unsubscribe function. */
export function forwardEvents(backend: AppBackend, target: () => WebContents | null): () => void {
  return backend.subscribe((event) => {
    const contents = target();
    if (contents && !contents.isDestroyed()) contents.send(EVENT_CHANNEL, event);
  });
}
