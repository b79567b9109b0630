// What e2e/netns/tun-arena-child.ts is asked to do and what it reports (e2e/tun-arena.test.ts).

export type ArenaMode = "intact" | "close-inside" | "detach";

export interface ArenaReport {
  mode: ArenaMode;
  batches: number;
  /** onBatch calls whose `data` was not the first call's Buffer. */
  otherBuffers: number;
  /** Indexes of our datagrams that arrived with exactly their payload. */
  intact: number[];
  /** What arrived wrong: a bad payload, a duplicate, a short packet. */
  problems: string[];
  onBatchAfterClose: number;
  /** detach: how it was detached, and whether the memory given away changed afterwards. */
  detachedWith?: string;
  givenAwayChanged?: { arena: boolean; lengths: boolean };
}

export const ARENA_ADDRESS = "198.18.0.1/30";
export const ARENA_ROUTE = "198.19.0.0/24";
/** Datagrams are sent in ROUNDS rounds of PER_ROUND, each waited for: many wakeups. */
export const ROUNDS = 20;
export const PER_ROUND = 15;
