// What the session suites ask of driver.ts, and what it tells them, over e2e/netns/child-rpc.ts.

export type SessionCommands = {
  /** The transport goes silent, as on a dead network. */
  cut: { args: null; result: void };
  /** New transports fail, as while the network is down. */
  down: { args: null; result: void };
  /** New transports work again. */
  up: { args: null; result: void };
  /** Answered once the session has disconnected. */
  disconnect: { args: null; result: void };
};

/** One state line of the driver. */
export interface DriverState {
  state: string;
  step?: string;
  attempt?: number;
  reason?: string;
}

export type SessionEvent = { state: DriverState } | { log: string } | { done: true };
