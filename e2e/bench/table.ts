// The benches' tables: figures as cells, and the columns lined up.

/** `value` with `digits` decimals, or "—" where there is none. */
export const fixed = (value: number | undefined, digits: number): string =>
  value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);

/** "label N.NN×", or "" where the ratio was not computed (or has no finite value). */
export const times = (label: string, value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? "" : `${label} ${value.toFixed(2)}×`;

/** The computed ratios of `entries` as `times` writes them, joined by `separator`. */
export const ratioFigures = (
  entries: ReadonlyArray<readonly [label: string, value: number | undefined]>,
  separator: string,
): string =>
  entries
    .map(([label, value]) => times(label, value))
    .filter(Boolean)
    .join(separator);

/**
 * The header, a rule of dashes and the body, each column as wide as its widest cell (a short row
 * counts for the columns it has), two spaces apart: right-aligned where `rightAligned(column)`,
 * left-aligned elsewhere; no trailing spaces.
 */
export function alignedTable(
  header: readonly string[],
  body: ReadonlyArray<readonly string[]>,
  rightAligned: (column: number) => boolean,
): string[] {
  const table = [header, ...body];
  const widths = header.map((_, i) => Math.max(...table.map((cells) => (cells[i] ?? "").length)));
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (rightAligned(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [render(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(render)];
}

/**
 * `label:` in a column of 26, then those of `figures` (a ratio's field → its label) that were
 * computed, as `times` writes them, in `figures`' order.
 */
export function ratioLine<K extends string>(
  label: string,
  ratio: { readonly [key in NoInfer<K>]?: number | undefined },
  figures: Readonly<Record<K, string>>,
): string {
  const keys = Object.keys(figures) as K[];
  return (
    `${label}:`.padEnd(26) +
    ratioFigures(
      keys.map((key) => [figures[key], ratio[key]] as const),
      "  ",
    )
  );
}
