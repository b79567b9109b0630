// The preload exposes a narrow, task-shaped API; never ipcRenderer itself (see STYLE.md). It runs
// sandboxed: the bundle may require nothing but "electron".
import { contextBridge, ipcRenderer } from "electron";
import { createBackhaulApi } from "./preload-api.js";

contextBridge.exposeInMainWorld("backhaul", createBackhaulApi(ipcRenderer));
