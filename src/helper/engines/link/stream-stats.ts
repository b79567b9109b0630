/**
 * Stream counters in STATS: each side that carries link streams (the entrance's opener, the exit's
 * forwarder) reports its counters as STATS extras named "streams.<counter>", beside "streams.open",
 * every interval in which one of them changed, so the other side and the logs see refusals, resets
 * and protocol errors as they see the TCP flows'.
 */
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

/**
 * Sends `read()` as a STATS frame every `intervalMs` when it differs from the last one sent, until
 * the link closes or the returned function is called.
 */
export function reportStreamStats(
  link: Link,
  read: () => Record<string, number>,
  intervalMs: number,
): () => void {
  let last = "";
  const timer = setInterval(() => {
    if (!link.isOpen) return;
    const extras = read();
    const text = JSON.stringify(extras);
    if (text === last) return;
    if (link.sendStats(extras)) last = text;
  }, intervalMs);
  timer.unref();
  const stop = (): void => clearInterval(timer);
  link.once("close", stop);
  return stop;
}
