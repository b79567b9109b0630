/**
 * The NAT table under load: 10,000 flows whose byte counters all change every 100 ms, fed
 * through the same queue and per-frame batching as main's deltas, a few flows ending and new
 * ones starting each time. Measures, for ~5 s, how long each frame keeps the main thread busy:
 * from the frame's start to the first task after it rendered (a message posted from its
 * requestAnimationFrame callback), which includes applying deltas, React's render, style,
 * layout and paint. Built as a second page so the shipped app carries no generator.
 */
import "./styles.css";
import { StrictMode, useEffect } from "react";
import { createRoot } from "react-dom/client";
import type { FlowRow } from "../shared/flow-row.js";
import { FlowTable } from "./components/FlowTable.js";
import { enqueueFlowDelta, startTablesClock } from "./state/tables-store.js";

const ROWS = 10_000;
const UPDATE_MS = 100;
/** Flows that close, then leave, per update: exercises the fade-out path too. */
const CHURN = 10;
const WARMUP_MS = 1_000;
const MEASURE_MS = 5_000;

export interface StressResult {
  rows: number;
  updateHz: number;
  /** Main-thread time per frame, as described above. */
  medianMs: number;
  p95Ms: number;
  frames: number;
  /** Time between frames (vsync bound: ~16.7 ms when every frame is on time). */
  intervalMedianMs: number;
  intervalP95Ms: number;
  /** Time to generate one update of all rows (what main and the bridge would do). */
  generateMedianMs: number;
  updates: number;
  renderedRows: number;
}

declare global {
  interface Window {
    __stressResult?: StressResult;
  }
}

function makeRow(id: number, now: number): FlowRow {
  const protocol = id % 10 === 0 ? "udp" : id % 37 === 0 ? "icmp" : "tcp";
  const host = `198.19.${(id >> 8) & 255}.${id & 255}`;
  return {
    id,
    protocol,
    family: 4,
    remote: `198.18.0.2:${30_000 + (id % 30_000)}`,
    destination: protocol === "icmp" ? host : `${host}:${id % 3 === 0 ? 5432 : 443}`,
    name: id % 2 === 0 ? `svc-${id % 500}.corp.example` : null,
    localSocket: `198.18.1.1:${40_000 + (id % 20_000)}`,
    state: protocol === "tcp" ? "ESTABLISHED" : "ACTIVE",
    upBytes: 0,
    downBytes: 0,
    upPackets: 0,
    downPackets: 0,
    startedAt: now - (id % 600) * 1_000,
    lastActivityAt: now,
    closedAt: null,
    closeReason: null,
  };
}

/** Generates the deltas main would send; returns the function that stops it. */
function startGenerator(onGenerate: (ms: number) => void): () => void {
  const now = Date.now();
  let rows: FlowRow[] = [];
  for (let id = 1; id <= ROWS; id++) rows.push(makeRow(id, now));
  let nextId = ROWS + 1;
  let closed: number[] = [];
  enqueueFlowDelta({ upserts: rows, removals: [] });

  const timer = setInterval(() => {
    const started = performance.now();
    const at = Date.now();
    // Flows closed last time leave now, as main removes closed rows after a while.
    const removals = closed;
    const gone = new Set(removals);
    const next: FlowRow[] = [];
    for (const row of rows) {
      if (gone.has(row.id)) continue;
      next.push({
        ...row,
        upBytes: row.upBytes + 200 + ((row.id * 7_919) % 5_000),
        downBytes: row.downBytes + 1_000 + ((row.id * 104_729) % 60_000),
        upPackets: row.upPackets + 1,
        downPackets: row.downPackets + 2,
        lastActivityAt: at,
      });
    }
    closed = [];
    for (let i = 0; i < CHURN; i++) {
      const index = Math.floor(Math.random() * next.length);
      const row = next[index];
      if (!row || row.closedAt !== null) continue;
      next[index] = { ...row, state: "CLOSED", closedAt: at, closeReason: "closed by the remote" };
      closed.push(row.id);
      next.push(makeRow(nextId++, at));
    }
    rows = next;
    enqueueFlowDelta({ upserts: next, removals });
    onGenerate(performance.now() - started);
  }, UPDATE_MS);
  return () => clearInterval(timer);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

const round = (value: number) => Math.round(value * 100) / 100;

async function measure(): Promise<void> {
  const generateTimes: number[] = [];
  const stopGenerator = startGenerator((ms) => generateTimes.push(ms));
  const stopClock = startTablesClock();
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  generateTimes.length = 0;

  const work: number[] = [];
  const intervals: number[] = [];
  const channel = new MessageChannel();
  let frameStart = 0;
  let lastFrame = 0;
  channel.port1.onmessage = () => work.push(performance.now() - frameStart);
  const begin = performance.now();
  await new Promise<void>((resolve) => {
    const onFrame = (timestamp: number) => {
      if (lastFrame > 0) intervals.push(timestamp - lastFrame);
      lastFrame = timestamp;
      frameStart = Math.min(timestamp, performance.now());
      channel.port2.postMessage(null);
      if (performance.now() - begin < MEASURE_MS) requestAnimationFrame(onFrame);
      else setTimeout(resolve, 50);
    };
    requestAnimationFrame(onFrame);
  });
  stopGenerator();
  stopClock();

  const sortedWork = [...work].sort((a, b) => a - b);
  const sortedIntervals = [...intervals].sort((a, b) => a - b);
  const sortedGenerate = [...generateTimes].sort((a, b) => a - b);
  const result: StressResult = {
    rows: ROWS,
    updateHz: 1_000 / UPDATE_MS,
    medianMs: round(percentile(sortedWork, 50)),
    p95Ms: round(percentile(sortedWork, 95)),
    frames: work.length,
    intervalMedianMs: round(percentile(sortedIntervals, 50)),
    intervalP95Ms: round(percentile(sortedIntervals, 95)),
    generateMedianMs: round(percentile(sortedGenerate, 50)),
    updates: generateTimes.length,
    renderedRows: document.querySelectorAll('[data-testid="flow-row"]').length,
  };
  window.__stressResult = result;
  const output = document.querySelector('[data-testid="stress-result"]');
  if (output) output.textContent = JSON.stringify(result);
}

let measuring = false;

function StressPage() {
  useEffect(() => {
    if (measuring) return;
    measuring = true;
    void measure();
  }, []);
  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">Backhaul · NAT table stress</span>
        <span className="muted">
          {ROWS.toLocaleString()} flows, every counter updated at {1_000 / UPDATE_MS} Hz
        </span>
      </header>
      <div className="banner">
        <code data-testid="stress-result">measuring…</code>
      </div>
      <main className="content">
        <FlowTable />
      </main>
    </div>
  );
}

const root = document.getElementById("root");
if (!root) throw new Error("stress.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <StressPage />
  </StrictMode>,
);
