/**
 * One V8 setting for every process that carries the link's bytes (main, the local helper, the
 * agent), applied at start before any traffic.
 *
 * Each SSH packet, socket read and batch of packets is a fresh ArrayBuffer: at 250 MB/s, several
 * hundred MB a second of short-lived backing stores. V8 frees them at the next scavenge but, with
 * concurrent ArrayBuffer sweeping, gives their bytes back to its external-memory account only
 * when a background job finishes. Meanwhile the account passes V8's 64 MB soft limit and starts a
 * full mark-compact. Measured in main during the bench's iperf3 runs (Node 20, V8 11.3): 65-84 full
 * collections in 22 s, more than its scavenges, with concurrent marking taking about a quarter of
 * main's CPU. Sweeping array buffers inside the scavenge returns the bytes at once: 4-16 full
 * collections in the same run, and 0.82x the CPU per GB on this computer's side.
 */
import { setFlagsFromString } from "node:v8";

export const HEAP_TUNING_FLAGS = ["--no-concurrent-array-buffer-sweeping"] as const;

export function tuneHeapForStreaming(): void {
  // A runtime whose V8 lacks a flag only prints that it does not know it.
  for (const flag of HEAP_TUNING_FLAGS) setFlagsFromString(flag);
}
