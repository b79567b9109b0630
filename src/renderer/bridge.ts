/**
 * The window's one way to main: Electron's preload (`window.backhaul`) or, in browser mode, a
 * WebSocket to the server that served this page. `backhaul ui` prints the page's URL with the
 * token in its fragment (`/#token=…`, never sent to a server); the page moves it to
 * sessionStorage (per origin, so per port), clears it from the address bar, and offers it as the
 * subprotocol `backhaul.token.<token>` next to `backhaul.v1`.
 */
import type { BackhaulApi } from "../shared/api.js";
import { BRIDGE_PATH, offeredProtocols, TOKEN_PATTERN, tokenInFragment } from "../shared/bridge-protocol.js";
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

/** Where this tab keeps the token across reloads. */
const TOKEN_KEY = "backhaul.token";

export function createBridge(): Bridge {
  const preload = window.backhaul;
  if (preload) {
    return { api: preload, linkState: () => "open", onLinkChange: () => () => undefined };
  }
  const token = takeToken();
  // The URL printed by a new `backhaul ui` on this port, pasted into this tab, only changes the
  // fragment: no page load. Keep its token and load the page again, to connect with it.
  window.addEventListener("hashchange", () => {
    if (tokenInHash() === null) return;
    const fresh = takeToken();
    if (fresh !== null && fresh !== token) location.reload();
  });
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${BRIDGE_PATH}`;
  const client = new BridgeClient({
    connect: token === null ? () => null : browserSocket(url, offeredProtocols(token)),
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

function tokenInHash(): string | null {
  return tokenInFragment(location.hash);
}

/** The token this page load took from its fragment; sessionStorage keeps it across reloads. */
let memoryToken: string | null = null;

/**
 * The token from the fragment, if there is one (it then leaves the address bar, keeping the
 * path and query), else the one this tab kept from an earlier load; null when there is neither.
 */
function takeToken(): string | null {
  const fromHash = tokenInHash();
  if (fromHash !== null) {
    history.replaceState(history.state, "", location.pathname + location.search);
    if (TOKEN_PATTERN.test(fromHash)) {
      memoryToken = fromHash;
      try {
        sessionStorage.setItem(TOKEN_KEY, fromHash);
      } catch {
        // Storage refused: the token lives as long as this page.
      }
    }
  }
  if (memoryToken !== null) return memoryToken;
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function browserSocket(url: string, protocols: string[]): SocketFactory {
  return (handlers) => {
    const socket = new WebSocket(url, protocols);
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
