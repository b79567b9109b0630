/**
 * The API the preload puts on `window.backhaul`, built over the few ipcRenderer methods it needs so
 * that it runs in tests without Electron. Only the request channels of the API can be invoked, and
 * a listener gets the event's payload, never the IpcRendererEvent (which would hand the page
 * `sender`, the ipcRenderer itself).
 */
import type { IpcRendererEvent } from "electron";
import {
  EVENT_CHANNEL,
  isRequestChannel,
  type AppEvent,
  type BackhaulApi,
  type RequestChannel,
  type ResponseOf,
} from "../../shared/api.js";

export interface PreloadIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): unknown;
}

export function createBackhaulApi(ipc: PreloadIpc): BackhaulApi {
  return {
    request<C extends RequestChannel>(channel: C, payload: unknown): Promise<ResponseOf<C>> {
      if (!isRequestChannel(channel))
        return Promise.reject(new Error(`unknown request channel ${JSON.stringify(String(channel))}`));
      return ipc.invoke(channel, payload) as Promise<ResponseOf<C>>;
    },
    subscribe(listener: (event: AppEvent) => void): () => void {
      const forward = (_event: IpcRendererEvent, appEvent: unknown) => listener(appEvent as AppEvent);
      ipc.on(EVENT_CHANNEL, forward);
      return () => {
        ipc.removeListener(EVENT_CHANNEL, forward);
      };
    },
  };
}
