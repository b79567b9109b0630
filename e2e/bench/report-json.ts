import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { dirname } from "node:path";

/** Writes a benchmark's results as JSON, stamped with when and on what machine they were taken. */
export function writeBenchJson(file: string, results: Record<string, unknown>): void {
  mkdirSync(dirname(file), { recursive: true });
  const report = {
    generatedAt: new Date().toISOString(),
    machine: { kernel: release(), cpus: cpus().length, model: cpus()[0]?.model ?? "unknown" },
    ...results,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
