// Finds and loads backhaul_native.node. Two layouts are supported:
//  - from source: this file sits in src/helper/native/, the binary in ./build/Release/;
//  - bundled: the remote agent is one JS file with backhaul_native.node beside it.
// BACKHAUL_NATIVE_PATH overrides both (tests, unusual installs).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NativeAddon } from "./addon-types.js";

export const NATIVE_FILE_NAME = "backhaul_native.node";

/** Directory of the running module: this file from source, or the bundle it was bundled into. */
function moduleDirectory(): string {
  // A CommonJS bundle has __dirname (and an empty import.meta); ESM has import.meta.url.
  if (typeof __dirname === "string") return __dirname;
  return dirname(fileURLToPath(import.meta.url));
}

/** The paths tried, in order. */
export function nativeAddonCandidates(): string[] {
  const here = moduleDirectory();
  const candidates = [join(here, NATIVE_FILE_NAME), join(here, "build", "Release", NATIVE_FILE_NAME)];
  const override = process.env.BACKHAUL_NATIVE_PATH;
  return override ? [override, ...candidates] : candidates;
}

function isNativeAddon(value: unknown): value is NativeAddon {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { TunDevice?: unknown }).TunDevice === "function"
  );
}

let cached: NativeAddon | undefined;

/** Loads the addon once; throws an Error saying where it looked and how to build it. */
export function loadNativeAddon(): NativeAddon {
  if (cached) return cached;
  if (process.platform !== "linux") {
    throw new Error(`backhaul's native addon is Linux-only; there is none for ${process.platform}`);
  }
  const candidates = nativeAddonCandidates();
  const file = candidates.find((candidate) => existsSync(candidate));
  if (!file) {
    throw new Error(
      `${NATIVE_FILE_NAME} not found (looked in ${candidates.join(", ")}); build it with \`node scripts/build-native.mjs\``,
    );
  }
  // process.dlopen works the same from ESM, CommonJS and bundles (no require() for bundlers to chase).
  const module: { exports: unknown } = { exports: {} };
  try {
    process.dlopen(module, file);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot load ${file}: ${reason} (rebuild it with \`node scripts/build-native.mjs --force\`)`,
      {
        cause: error,
      },
    );
  }
  if (!isNativeAddon(module.exports))
    throw new Error(`${file} is not backhaul's native addon (no TunDevice export)`);
  cached = module.exports;
  return cached;
}
