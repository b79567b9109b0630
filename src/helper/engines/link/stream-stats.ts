/**
 * Stream counters in STATS: each side that carries link streams (the entrance's opener, the exit's
 * forwarder) reports its counters as STATS extras named "streams.<counter>", beside "streams.open",
 * every interval in which one of them changed, so the other side and the logs see refusals, resets
 * and protocol errors as they see the TCP flows'.
 */
import { reportChangedStats } from "./changed-stats.js";
import type { Link } from "./link.js";

/** How often each side looks whether its stream counters changed. */
export const STREAM_STATS_INTERVAL_MS = 5_000;

/** The extras of one report: each counter as "streams.<name>", and the streams open now. */
export function streamStatsExtras(
  counters: Readonly<Record<string, number>>,
  open: number,
): Record<string, number> {
  const extras: Record<string, number> = { "streams.open": open };
  for (const [name, count] of Object.entries(counters)) extras[`streams.${name}`] = count;
  return extras;
}

/** Sends `read()` in STATS every `intervalMs` when it changed (reportChangedStats); returns the stop. */
export function reportStreamStats(
  link: Link,
  read: () => Record<string, number>,
  intervalMs: number,
): () => void {
  return reportChangedStats(link, read, intervalMs).stop;
}
