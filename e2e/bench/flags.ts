// Command-line values shared by the benchmarks' flag parsers (nat/options.ts, ssh/options.ts).

/** A comma-separated list, blanks dropped. */
export function list(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

/** An integer in 1..max, or an error that quotes the flag and the usage text. */
export function positiveInteger(flag: string, value: string, max: number, usage: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0 || number > max) {
    throw new Error(`--${flag} must be an integer in 1..${max}, got ${value}\n${usage}`);
  }
  return number;
}
