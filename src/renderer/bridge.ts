/**
 * The window's one way to main: Electron's preload (`window.backhaul`) or, in browser mode, a
 * WebSocket to the server that served this page (it authenticates by the HttpOnly cookie it set).
 */
import type { BackhaulApi } from "../shared/api.js";
import { BridgeClient, type BridgeLinkState, type SocketFactory } from "./bridge-client.js";

declare global {
  interface Window {
    backhaul?: BackhaulApi;
  }
}

export interface Bridge {
  api: BackhaulApi;
  linkState(): BridgeLinkState;
  onLinkChange(listener: (state: BridgeLinkState) => void): () => void;
}

export function createBridge(): Bridge {
  const preload = window.backhaul;
  if (preload) {
    return { api: preload, linkState: () => "open", onLinkChange: () => () => undefined };
  }
  const client = new BridgeClient({
    connect: browserSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/ws`),
    schedule: (callback, ms) => {
      const timer = setTimeout(callback, ms);
      return () => clearTimeout(timer);
    },
  });
  return {
    api: client,
    linkState: () => client.state,
    onLinkChange: (listener) => client.onStateChange(listener),
  };
}

function browserSocket(url: string): SocketFactory {
  return (handlers) => {
    const socket = new WebSocket(url);
    let closed = false;
    const closeOnce = () => {
      if (closed) return;
      closed = true;
      handlers.close();
    };
    socket.addEventListener("open", () => handlers.open());
    socket.addEventListener("message", (event: MessageEvent<unknown>) => {
      if (typeof event.data === "string") handlers.message(event.data);
    });
    socket.addEventListener("close", closeOnce);
    socket.addEventListener("error", closeOnce);
    return {
      send: (data) => socket.send(data),
      close: () => socket.close(),
    };
  };
}
