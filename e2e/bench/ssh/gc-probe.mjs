// The bench's garbage-collection counter, preloaded (NODE_OPTIONS="--import …/gc-probe.mjs") into
// the Node processes it starts in L: Backhaul's CLI (main) and, through the inherited environment,
// the local helper it spawns. It counts V8's collections by kind from `gc` performance entries and
// writes {pid, role, minor, major, minorMs, majorMs} to $BACKHAUL_BENCH_GC_DIR/PID.json (temp file
// + rename, so a reader never sees half a file) at most every 200 ms while counts change, and at
// exit. Plain JavaScript: no build step, and it works with any build given to --variant.
// Node 20's kinds (perf_hooks.constants): MINOR 1 (scavenge), MAJOR 4 (mark-sweep-compact),
// INCREMENTAL 8 and WEAKCB 16 (phases of a major collection: their time counts, not their number);
// 2 is V8's minor mark-sweep, a young-generation collection (off by default).
import { renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { PerformanceObserver, constants } from "node:perf_hooks";
import { isMainThread } from "node:worker_threads";

const dir = process.env.BACKHAUL_BENCH_GC_DIR;
// A worker has its own heap and the same PID: only the main thread's heap is counted.
if (dir && isMainThread) start(dir);

function roleOf(script) {
  const file = basename(script || "");
  if (file === "cli.mjs") return "main";
  if (file.startsWith("helper-local")) return "helper";
  return file || "node";
}

function start(dir) {
  const MINOR_MARK_SWEEP = 2;
  const counts = {
    pid: process.pid,
    role: roleOf(process.argv[1]),
    minor: 0,
    major: 0,
    minorMs: 0,
    majorMs: 0,
  };
  const file = join(dir, `${process.pid}.json`);
  const temp = `${file}.tmp`;
  let lastWrite = 0;
  let timer;

  const write = () => {
    lastWrite = Date.now();
    try {
      writeFileSync(temp, JSON.stringify(counts));
      renameSync(temp, file);
    } catch {
      // The directory is gone (the bench cleaned up): the process must not notice.
    }
  };
  // No timer while nothing is collected: the probe adds no wakeups to an idle process.
  const schedule = () => {
    if (timer) return;
    const wait = Math.max(0, lastWrite + 200 - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      write();
    }, wait);
    timer.unref();
  };

  const add = (entries) => {
    for (const entry of entries) {
      const kind = entry.detail ? entry.detail.kind : entry.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR || kind === MINOR_MARK_SWEEP) {
        counts.minor += 1;
        counts.minorMs += entry.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        counts.major += 1;
        counts.majorMs += entry.duration;
      } else {
        counts.majorMs += entry.duration;
      }
    }
  };
  const observer = new PerformanceObserver((list) => {
    add(list.getEntries());
    schedule();
  });
  observer.observe({ entryTypes: ["gc"] });

  write();
  // Entries reach the observer a turn of the event loop after their collection: those delivered
  // but not yet handed to the callback count too.
  process.on("exit", () => {
    add(observer.takeRecords());
    write();
  });
}
