/**
 * What the window talks to, whichever shell carries the calls: Electron IPC (electron/main.ts)
 * or the browser-mode WebSocket bridge (ui-server.ts). Both pass every call through
 * `dispatchRequest`, so validation happens in one place.
 */
import type { AppEvent, RequestChannel, RequestOf, ResponseOf } from "../../shared/api.js";
import { validateRequest } from "../../shared/api-validate.js";

export interface AppBackend {
  handle<C extends RequestChannel>(channel: C, payload: RequestOf<C>): Promise<ResponseOf<C>>;
  subscribe(listener: (event: AppEvent) => void): () => void;
  /** Disconnects any session (restoring the remote) and stops timers. */
  close(): Promise<void>;
}

/** Validates an untrusted call from the renderer, then runs it. Throws ApiValidationError when refused. */
export function dispatchRequest(backend: AppBackend, channel: unknown, payload: unknown): Promise<unknown> {
  const valid = validateRequest(channel as RequestChannel, payload);
  return backend.handle(channel as RequestChannel, valid);
}
