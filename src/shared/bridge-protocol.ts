/**
 * The browser-mode bridge's handshake, shared by the server (main/ui-server.ts) and the page
 * (renderer/bridge.ts): `backhaul ui` prints a URL with the token in its fragment
 * (`/#token=…`, never sent to a server), and the page opens a WebSocket on BRIDGE_PATH offering
 * two subprotocols, BRIDGE_PROTOCOL and `backhaul.token.<token>`. The server accepts only the
 * first, so the token is never echoed. The messages themselves are typed in api.ts.
 */

export const BRIDGE_PATH = "/api/ws";
/** The bridge's wire format: the one subprotocol the server accepts, and so names in its answer. */
export const BRIDGE_PROTOCOL = "backhaul.v1";
/** `backhaul.token.<token>`: how the page proves it was opened from the printed URL. */
export const TOKEN_PROTOCOL_PREFIX = "backhaul.token.";
/** The fragment parameter that carries the token: `/#token=…`. */
export const TOKEN_FRAGMENT_KEY = "token";
/** A subprotocol is an HTTP token: base64url and hex fit, padding and `+`/`/` would not. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]+$/;

/** The subprotocols a page offers: the bridge's, and its token's. */
export function offeredProtocols(token: string): string[] {
  return [BRIDGE_PROTOCOL, TOKEN_PROTOCOL_PREFIX + token];
}

/** The token in a URL's fragment (`#token=…`), or null. */
export function tokenInFragment(hash: string): string | null {
  return new URLSearchParams(hash.replace(/^#/, "")).get(TOKEN_FRAGMENT_KEY);
}
