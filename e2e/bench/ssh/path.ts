// What each measured path hands the measuring code once it is up: R then reaches S through it.
export const PEER_NAMES = ["direct", "backhaul", "proxy", "sshuttle", "ssh -w"] as const;
export type PeerName = (typeof PEER_NAMES)[number];

export interface PeerPath {
  name: PeerName;
  /** How it was set up, for the report. */
  setup: string;
  /** False when only the kernel forwards (no process to charge CPU to). */
  userspace: boolean;
  /** The proxy entrance's SOCKS5 URL (with its credentials): R reaches S only through it. */
  proxy?: string;
  /** Backhaul: from starting `backhaul connect` to its "connected" event. */
  connectMs?: number;
  /** Backhaul: where the GC probe preloaded into its Node processes in L writes (gc-count.ts). */
  gcDir?: string;
  /** Takes the path down and leaves R and L as they were before it. */
  stop(): Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every 100 ms until it holds; fails early when `failed` says why (a process died). */
export async function waitFor(
  what: string,
  done: () => boolean | Promise<boolean>,
  failed: () => string | undefined,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed();
    if (why) throw new Error(`${what}: ${why}`);
    if (await done()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}
