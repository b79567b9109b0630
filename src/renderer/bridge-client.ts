/**
 * The browser-mode side of the API: requests and events over one WebSocket, in the wire format
 * of api.ts. Free of DOM types so that it runs under plain Node with a fake socket: bridge.ts
 * adapts the browser's WebSocket to `SocketFactory`.
 */
import type {
  AppEvent,
  BackhaulApi,
  BridgeClientMessage,
  RequestChannel,
  RequestOf,
  ResponseOf,
} from "../shared/api.js";
import { parseJsonObject } from "../shared/json-object.js";

/**
 * "connecting" until the first open; "lost" from a drop until the socket is open again;
 * "refused" for good once there was nothing to connect with (no token) or `maxFailures` sockets
 * in a row closed before they opened: a server refusing the token looks like that from a browser.
 */
export type BridgeLinkState = "connecting" | "open" | "lost" | "refused";

export interface SocketHandlers {
  open(): void;
  message(data: string): void;
  /** Called once per socket, whether it failed to open or dropped later. */
  close(): void;
}

export interface SocketLike {
  send(data: string): void;
  close(): void;
}

/** Returns null when there is nothing to connect with (no token): the client gives up at once. */
export type SocketFactory = (handlers: SocketHandlers) => SocketLike | null;

export interface BridgeClientOptions {
  connect: SocketFactory;
  /** Runs `callback` after `ms`; returns a function that cancels it. */
  schedule(callback: () => void, ms: number): () => void;
  /** Waits between reconnect attempts; the last one repeats. */
  retryDelaysMs?: readonly number[];
  /** Sockets in a row that close before opening, after which the client stops: "refused". */
  maxFailures?: number;
  /** Where a listener's exception goes: it must not stop the other listeners. */
  reportError?(error: unknown): void;
}

/** What the page says when it stopped trying: the server is gone or does not take its token. */
export const NOT_CONNECTED_MESSAGE =
  "This page is not connected to a running `backhaul ui`: open the URL it printed.";

export class BridgeRefusedError extends Error {
  override readonly name = "BridgeRefusedError";
  constructor() {
    super(NOT_CONNECTED_MESSAGE);
  }
}

export class BridgeLostError extends Error {
  override readonly name = "BridgeLostError";
  constructor() {
    super("The connection to Backhaul was lost; the request may not have run. Try again once it is back.");
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const DEFAULT_RETRY_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000];
/** Five failed sockets: about 4 s before ever connecting, 8 s after a drop (with the delays above). */
const DEFAULT_MAX_FAILURES = 5;

export class BridgeClient implements BackhaulApi {
  private socket: SocketLike | null = null;
  private linkState: BridgeLinkState = "connecting";
  private nextId = 1;
  /** Sent, awaiting their response. */
  private readonly inFlight = new Map<number, Pending>();
  /** Made before the first open: sent when it opens. */
  private readonly queued: { message: BridgeClientMessage; pending: Pending }[] = [];
  private readonly eventListeners = new Set<(event: AppEvent) => void>();
  private readonly stateListeners = new Set<(state: BridgeLinkState) => void>();
  private retries = 0;
  /** Sockets in a row that closed before they opened. */
  private failures = 0;
  private cancelRetry: (() => void) | null = null;
  private closed = false;

  constructor(private readonly options: BridgeClientOptions) {
    this.open();
  }

  get state(): BridgeLinkState {
    return this.linkState;
  }

  request<C extends RequestChannel>(channel: C, payload: RequestOf<C>): Promise<ResponseOf<C>> {
    return new Promise<unknown>((resolve, reject) => {
      if (this.closed) return reject(new Error("The Backhaul bridge is closed."));
      if (this.linkState === "refused") return reject(new BridgeRefusedError());
      if (this.linkState === "lost") return reject(new BridgeLostError());
      const message: BridgeClientMessage = { id: this.nextId++, channel, payload };
      const pending = { resolve, reject };
      if (this.linkState === "connecting") this.queued.push({ message, pending });
      else this.send(message, pending);
    }) as Promise<ResponseOf<C>>;
  }

  subscribe(listener: (event: AppEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onStateChange(listener: (state: BridgeLinkState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.cancelRetry?.();
    this.cancelRetry = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.rejectAll(new Error("The Backhaul bridge is closed."));
  }

  private open(): void {
    let current: SocketLike | null = null;
    let opened = false;
    const isCurrent = () => current !== null && current === this.socket;
    current = this.options.connect({
      open: () => {
        if (!isCurrent()) return;
        opened = true;
        this.retries = 0;
        this.failures = 0;
        this.setState("open");
        for (const { message, pending } of this.queued.splice(0)) this.send(message, pending);
      },
      message: (data) => {
        if (isCurrent()) this.receive(data);
      },
      close: () => {
        if (!isCurrent()) return;
        this.socket = null;
        if (!opened) this.failures++;
        if (this.failures >= (this.options.maxFailures ?? DEFAULT_MAX_FAILURES)) return this.refuse();
        this.rejectAll(new BridgeLostError());
        this.setState("lost");
        this.scheduleReconnect();
      },
    });
    if (current === null) return this.refuse();
    this.socket = current;
  }

  /** Stops for good: only opening the printed URL again (a new page load) can connect. */
  private refuse(): void {
    this.socket = null;
    this.rejectAll(new BridgeRefusedError());
    this.setState("refused");
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delays = this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const delay = delays[Math.min(this.retries, delays.length - 1)] ?? 1_000;
    this.retries++;
    this.cancelRetry = this.options.schedule(() => {
      this.cancelRetry = null;
      if (!this.closed) this.open();
    }, delay);
  }

  private send(message: BridgeClientMessage, pending: Pending): void {
    this.inFlight.set(message.id, pending);
    try {
      this.socket?.send(JSON.stringify(message));
    } catch (error) {
      this.inFlight.delete(message.id);
      pending.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private receive(data: string): void {
    const message = parseJsonObject(data);
    if (message === undefined) return;
    if ("event" in message) {
      this.emit(message.event as AppEvent);
      return;
    }
    if (!("id" in message) || typeof message.id !== "number") return;
    const pending = this.inFlight.get(message.id);
    if (!pending) return;
    this.inFlight.delete(message.id);
    if ("ok" in message && message.ok === true) pending.resolve("result" in message ? message.result : null);
    else
      pending.reject(
        new Error("error" in message && typeof message.error === "string" ? message.error : "request failed"),
      );
  }

  private emit(event: AppEvent): void {
    for (const listener of [...this.eventListeners]) {
      try {
        listener(event);
      } catch (error) {
        (this.options.reportError ?? console.error)(error);
      }
    }
  }

  private setState(state: BridgeLinkState): void {
    if (state === this.linkState) return;
    this.linkState = state;
    for (const listener of [...this.stateListeners]) listener(state);
  }

  private rejectAll(error: Error): void {
    for (const pending of this.inFlight.values()) pending.reject(error);
    this.inFlight.clear();
    for (const { pending } of this.queued.splice(0)) pending.reject(error);
  }
}
