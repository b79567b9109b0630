#!/usr/bin/env node
// `npm test`: typecheck, lint, format check, build, then every test suite under node's runner.
// Suites that need root and /dev/net/tun (network namespaces, TUN devices) install their Debian
// packages first when run as root; otherwise the runner says which suites did not run and why.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const failures = [];
const notRun = [];

function step(name, command, args, options = {}) {
  console.log(`\n== ${name}: ${[command, ...args].join(" ")}`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  console.log(`== ${name}: ${ok ? "ok" : `FAILED (exit ${result.status ?? result.signal})`} in ${seconds}s`);
  if (!ok) failures.push(name);
  return ok;
}

function findTests(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === "node_modules" || entry === "artifacts") continue;
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (entry.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out.sort();
}

/** Why the privileged suites cannot run here, or undefined when they can. */
function privilegedBlocker() {
  if (process.platform !== "linux") return "they need Linux network namespaces";
  if (typeof process.getuid !== "function" || process.getuid() !== 0)
    return "they need root (network namespaces, TUN devices)";
  if (!existsSync("/dev/net/tun"))
    return "/dev/net/tun is missing (load the tun module, or give the container the device)";
  return undefined;
}

const npx = (bin) => join(root, "node_modules", ".bin", bin);

step("typecheck", npx("tsc"), ["-p", "tsconfig.json", "--noEmit"]);
step("lint", npx("eslint"), ["--max-warnings", "0", "."]);
step("format", npx("prettier"), ["--check", "--log-level", "warn", "."]);
step("build", process.execPath, ["scripts/build.mjs"]);

const unit = findTests(join(root, "src"));
let e2e = findTests(join(root, "e2e"));
const blocker = privilegedBlocker();
if (blocker) {
  for (const file of e2e) notRun.push(`${file}: ${blocker}; run them with: sudo npm test`);
  e2e = [];
} else if (e2e.length > 0 && !step("test dependencies", "bash", ["scripts/ensure-test-deps.sh"])) {
  for (const file of e2e)
    notRun.push(`${file}: the Debian packages it needs could not be installed (see above)`);
  e2e = [];
}

const tap = join(mkdtempSync(join(tmpdir(), "backhaul-test-")), "results.tap");
step("tests", process.execPath, [
  "--import",
  "tsx",
  "--test",
  "--test-reporter=spec",
  "--test-reporter-destination=stdout",
  "--test-reporter=tap",
  `--test-reporter-destination=${tap}`,
  ...unit,
  ...e2e,
]);

const counts = { pass: 0, fail: 0, skipped: 0 };
if (existsSync(tap)) {
  for (const line of readFileSync(tap, "utf8").split("\n")) {
    const match = /^# (pass|fail|skipped) (\d+)$/.exec(line);
    if (match) counts[match[1]] = Number(match[2]);
  }
}

console.log("");
if (notRun.length > 0) {
  console.log(`Suites that did not run (${notRun.length}):`);
  for (const line of notRun) console.log(`  - ${line}`);
}
if (counts.skipped > 0)
  console.log(`${counts.skipped} tests skipped themselves; their reasons are in the output above.`);
if (failures.length > 0) console.log(`Failed steps: ${failures.join(", ")}`);
console.log(`tests: ${counts.pass} passed, ${counts.fail} failed, ${counts.skipped} skipped`);
process.exit(failures.length > 0 ? 1 : 0);
