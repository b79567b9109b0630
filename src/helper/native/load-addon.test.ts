// The loader must find the addon both from source and next to a bundled file (the remote agent
// is one CommonJS bundle with backhaul_native.node beside it).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { NATIVE_FILE_NAME, nativeAddonCandidates } from "./load-addon.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const built = join(here, "build", "Release", NATIVE_FILE_NAME);

test("looks beside the module, then in build/Release; BACKHAUL_NATIVE_PATH goes first", () => {
  const saved = process.env.BACKHAUL_NATIVE_PATH;
  try {
    delete process.env.BACKHAUL_NATIVE_PATH;
    assert.deepEqual(nativeAddonCandidates(), [join(here, NATIVE_FILE_NAME), built]);
    process.env.BACKHAUL_NATIVE_PATH = "/opt/x.node";
    assert.equal(nativeAddonCandidates()[0], "/opt/x.node");
  } finally {
    if (saved === undefined) delete process.env.BACKHAUL_NATIVE_PATH;
    else process.env.BACKHAUL_NATIVE_PATH = saved;
  }
});

for (const format of ["cjs", "esm"] as const) {
  test(`loads the addon next to a ${format} bundle`, { timeout: 30_000 }, async (t) => {
    if (process.platform !== "linux") return t.skip("the addon is Linux-only");
    if (!existsSync(built)) return t.skip(`${built} is not built (node scripts/build-native.mjs)`);
    const dir = mkdtempSync(join(tmpdir(), "backhaul-bundle-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const entry = join(dir, "entry.ts");
    writeFileSync(
      entry,
      `import { loadNativeAddon } from ${JSON.stringify(join(here, "load-addon.ts"))};\n` +
        `console.log(typeof loadNativeAddon().TunDevice, loadNativeAddon().TunDevice.maxBatch);\n`,
    );
    const outfile = join(dir, "out", format === "cjs" ? "agent.cjs" : "agent.mjs");
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: "node",
      format,
      logLevel: "silent",
    });
    copyFileSync(built, join(dir, "out", NATIVE_FILE_NAME));
    const run = spawnSync(process.execPath, [outfile], { cwd: tmpdir(), encoding: "utf8", timeout: 10_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), "function 256");
  });
}
