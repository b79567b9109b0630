// The Electron runtime `npm install electron` unpacked for this machine, found without requiring
// `electron` (which, on this version, tries to download a missing binary). Shared by `npm start`,
// `npm run dist` and the _electron test.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** { dist, binary } when the runtime is there, else null. */
export function electronRuntime(root) {
  const dir = join(root, "node_modules", "electron");
  const pathFile = join(dir, "path.txt");
  if (!existsSync(pathFile)) return null;
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(dir, "dist");
  const binary = join(dist, readFileSync(pathFile, "utf8"));
  return existsSync(binary) ? { dist, binary } : null;
}
