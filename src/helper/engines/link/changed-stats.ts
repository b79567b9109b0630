/**
 * Counters in STATS without traffic while idle: `read()` is looked at every interval and sent only
 * when it differs from what was last sent. The agent's stream counters and its DNS status use it.
 */
import type { Link } from "./link.js";

export interface ChangedStatsReporter {
  /**
   * Sends `read()` now if it changed; with `alongside` (a state that must go out now, such as the
   * DNS mode just applied), sends both in one frame whether or not `read()` changed.
   */
  poll(alongside?: Readonly<Record<string, number>>): void;
  stop(): void;
}

/**
 * Sends `read()` as a STATS frame every `intervalMs` when it differs from the last one sent, until
 * the link closes or `stop()` is called.
 */
export function reportChangedStats(
  link: Link,
  read: () => Record<string, number>,
  intervalMs: number,
): ChangedStatsReporter {
  let last = "";
  const poll = (alongside: Readonly<Record<string, number>> = {}): void => {
    if (!link.isOpen) return;
    const extras = read();
    const text = JSON.stringify(extras);
    const urgent = Object.keys(alongside).length > 0;
    if (text === last && !urgent) return;
    // Not sent (the link is closing, or its queue full): the next poll tries again.
    if (link.sendStats({ ...extras, ...alongside })) last = text;
  };
  const timer = setInterval(poll, intervalMs);
  timer.unref();
  const stop = (): void => clearInterval(timer);
  link.once("close", stop);
  return { poll, stop };
}
