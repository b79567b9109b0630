/** The throughput chart's geometry: SVG paths for up and down over the last samples. */
import type { LinkSample } from "../shared/api.js";

export interface ChartPaths {
  up: string;
  down: string;
  upArea: string;
  downArea: string;
  /** The rate at the top of the chart, bytes per second. */
  ceiling: number;
}

/**
 * Paths in a `slots` × `height` box, newest sample at the right edge, one slot per sample. The
 * ceiling is the peak rounded up to a round figure in the unit it is shown in, so the scale does
 * not twitch with every sample.
 */
export function chartPaths(samples: readonly LinkSample[], slots: number, height: number): ChartPaths {
  const shown = samples.slice(-slots);
  let peak = 0;
  for (const sample of shown) peak = Math.max(peak, sample.upBps, sample.downBps);
  const ceiling = niceCeiling(Math.max(peak, 1024));
  const offset = slots - shown.length;
  const line = (value: (sample: LinkSample) => number) =>
    shown
      .map((sample, index) => {
        const x = offset + index;
        const y = height - (value(sample) / ceiling) * height;
        return `${index === 0 ? "M" : "L"}${x} ${round(y)}`;
      })
      .join(" ");
  const area = (path: string) =>
    shown.length === 0 ? "" : `${path} L${offset + shown.length - 1} ${height} L${offset} ${height} Z`;
  const up = line((sample) => sample.upBps);
  const down = line((sample) => sample.downBps);
  return { up, down, upArea: area(up), downArea: area(down), ceiling };
}

/** 1, 2 or 5 times a power of ten, of the binary unit the value reads in (KiB/s, MiB/s...). */
export function niceCeiling(value: number): number {
  const unit = 1024 ** Math.max(0, Math.floor(Math.log(value) / Math.log(1024)));
  const scaled = value / unit;
  const magnitude = 10 ** Math.floor(Math.log10(scaled));
  for (const step of [1, 2, 5]) if (step * magnitude >= scaled) return step * magnitude * unit;
  return 10 * magnitude * unit;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
