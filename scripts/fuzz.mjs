#!/usr/bin/env node
// `npm run fuzz`: the long runs of every fuzzer that `npm test` runs short. The codec, link and
// DNS fuzzers make BACKHAUL_FUZZ_RUNS cases each (100,000 here, 2,000 in npm test); the
// structured remote fuzzer sends BACKHAUL_FUZZ_PACKETS packets through the real helper in a
// namespace (1,000,000 here; it needs root). Both can be set, and BACKHAUL_FUZZ_SEED replays a
// remote-fuzzer run. `npm run fuzz -- FILE...` runs only those files.
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const FUZZERS = [
  "src/helper/engines/packet/packet.test.ts",
  "src/helper/engines/link/frame-decoder.test.ts",
  "src/helper/engines/link/protocol.test.ts",
  "src/helper/engines/dns/fuzz.test.ts",
  "e2e/hostile-remote.test.ts",
];
const files = process.argv.length > 2 ? process.argv.slice(2) : FUZZERS;
const env = {
  ...process.env,
  BACKHAUL_FUZZ_RUNS: process.env.BACKHAUL_FUZZ_RUNS ?? "100000",
  BACKHAUL_FUZZ_PACKETS: process.env.BACKHAUL_FUZZ_PACKETS ?? "1000000",
};

// The remote fuzzer runs the built helper: build it from this tree first.
const build = spawnSync(process.execPath, ["scripts/build.mjs", "--quiet"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

const failed = [];
for (const file of files) {
  console.log(
    `\n== fuzz: ${file} (BACKHAUL_FUZZ_RUNS=${env.BACKHAUL_FUZZ_RUNS}, BACKHAUL_FUZZ_PACKETS=${env.BACKHAUL_FUZZ_PACKETS})`,
  );
  const started = Date.now();
  const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", file], {
    cwd: root,
    env,
    stdio: "inherit",
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`== fuzz: ${file}: ${result.status === 0 ? "ok" : "FAILED"} in ${seconds}s`);
  if (result.status !== 0) failed.push(file);
}
if (failed.length > 0) {
  console.log(`\nfuzz: ${failed.length} failed: ${failed.join(", ")}`);
  process.exit(1);
}
console.log(`\nfuzz: all ${files.length} passed`);
