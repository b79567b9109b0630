// Where the browser-mode window (`backhaul ui`) keeps its settings and recents, and where the
// CLI finds the exec: targets saved there.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { SavedExecTarget } from "../../shared/api.js";
import { SettingsStore } from "../app/settings-store.js";

export function dataDir(given?: string): string {
  if (given !== undefined) return resolve(given);
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "backhaul");
}

/** The exec: targets saved in the window; none when it has no settings yet. */
export async function savedExecTargets(
  given: string | undefined,
  warn: (line: string) => void,
): Promise<SavedExecTarget[]> {
  const store = await SettingsStore.open(dataDir(given), warn);
  return store.current.execTargets;
}
