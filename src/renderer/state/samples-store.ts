/** The last two minutes of link samples, for the header's figures and chart. */
import { create } from "zustand";
import type { LinkSample } from "../../shared/api.js";

export const MAX_SAMPLES = 120;

interface SamplesState {
  samples: LinkSample[];
}

export const useSamplesStore = create<SamplesState>(() => ({ samples: [] }));

export function addSample(sample: LinkSample): void {
  useSamplesStore.setState((s) => ({ samples: [...s.samples.slice(-(MAX_SAMPLES - 1)), sample] }));
}

export function clearSamples(): void {
  useSamplesStore.setState({ samples: [] });
}
