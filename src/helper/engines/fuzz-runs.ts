/**
 * How many cases each long fuzz test tries, from one place: a short run in `npm test`, the long
 * one from `npm run fuzz` (BACKHAUL_FUZZ_RUNS=100000 or more). Assertions about the mix of
 * outcomes scale with it.
 */
export const DEFAULT_FUZZ_RUNS = 2_000;

export function fuzzRuns(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.BACKHAUL_FUZZ_RUNS;
  if (text === undefined || text === "") return DEFAULT_FUZZ_RUNS;
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`BACKHAUL_FUZZ_RUNS must be a positive integer, got ${text}`);
  return runs;
}

export const FUZZ_RUNS = fuzzRuns();

/**
 * The seed of a fuzz run: BACKHAUL_FUZZ_SEED when replaying one, a fresh one otherwise, so that
 * every run tries new cases and a failing one can be run again. Callers print it.
 */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.BACKHAUL_FUZZ_SEED;
  if (text === undefined || text === "") return Math.floor(Math.random() * 0x1_0000_0000);
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff)
    throw new Error(`BACKHAUL_FUZZ_SEED must be an integer from 0 to 4294967295, got ${text}`);
  return seed;
}
