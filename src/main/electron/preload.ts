// The preload exposes a narrow, task-shaped API; never ipcRenderer itself (see STYLE.md).
import { contextBridge, ipcRenderer } from "electron";
import type { BackhaulApi } from "../../shared/api.js";

const api: BackhaulApi = {
  request: (channel, payload) => ipcRenderer.invoke(channel, payload),
};

contextBridge.exposeInMainWorld("backhaul", api);
