// A test's child script that another user (nobody) can run. The checkout may sit in a private
// directory (a 0700 home, as Debian 12 creates them), where that user cannot read the sources or
// node_modules: the script is bundled with everything it imports into a fresh world-readable
// directory, with the native addon beside it (load-addon.ts looks there first).
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { NATIVE_FILE_NAME } from "../../src/helper/native/load-addon.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const ADDON = join(ROOT, "src/helper/native/build/Release", NATIVE_FILE_NAME);

export interface AnyUserScript {
  /** The directory holding the bundle (and the addon): a good working directory for the child. */
  dir: string;
  /** The bundled script, run with `node FILE`. */
  file: string;
  remove(): void;
}

export function bundleForAnyUser(entry: string): AnyUserScript {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-any-user-"));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    chmodSync(dir, 0o755);
    const file = join(dir, "script.mjs");
    buildSync({
      entryPoints: [entry],
      outfile: file,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "warning",
      // CommonJS dependencies get a real `require`, as in the helper's own bundle (scripts/build.mjs).
      banner: {
        js: 'import { createRequire as __bhRequire } from "node:module"; const require = __bhRequire(import.meta.url);',
      },
    });
    chmodSync(file, 0o644);
    if (existsSync(ADDON)) {
      copyFileSync(ADDON, join(dir, NATIVE_FILE_NAME));
      chmodSync(join(dir, NATIVE_FILE_NAME), 0o644);
    }
    return { dir, file, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
