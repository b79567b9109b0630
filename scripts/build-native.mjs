// Builds the native addon (src/helper/native) with node-gyp, from local Node headers only:
// node-gyp must never try to download headers (no internet on dev machines or CI).
//
//   node scripts/build-native.mjs              build for this machine (skipped when up to date)
//   node scripts/build-native.mjs --force      rebuild even when up to date
//   node scripts/build-native.mjs --arch=arm64 --out=dist/native/linux-arm64/backhaul_native.node
//                                              cross-build (needs aarch64-linux-gnu-gcc, or CC)
//
// The addon is Linux-only (the remote agent's TUN device): on macOS and Windows this prints so and
// exits 0, because the local helper runs there without any native build of ours.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nativeDir = join(root, "src", "helper", "native");
const output = join(nativeDir, "build", "Release", "backhaul_native.node");
const stampFile = join(nativeDir, "build", "backhaul-build.json");

/** Compiler triples for cross builds from x64 (Debian's gcc-<triple> packages). */
const crossCompilers = { arm64: "aarch64-linux-gnu-gcc", x64: "x86_64-linux-gnu-gcc" };

function fail(message) {
  console.error(`build-native: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = { force: false, arch: process.env.npm_config_arch || process.arch, out: undefined };
  for (const arg of argv) {
    if (arg === "--force") args.force = true;
    else if (arg.startsWith("--arch=")) args.arch = arg.slice("--arch=".length);
    else if (arg.startsWith("--out=")) args.out = resolve(arg.slice("--out=".length));
    else fail(`unknown argument ${arg} (use --force, --arch=x64|arm64, --out=FILE)`);
  }
  return args;
}

/** Finds an executable on PATH (or an absolute path), without running a shell. */
function findExecutable(name) {
  if (name.includes("/")) return existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** A directory whose include/node holds node_api.h and common.gypi: what --nodedir needs. */
function findNodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir,
    resolve(dirname(process.execPath), ".."), // /usr for /usr/bin/node, or an official tarball
    join(homedir(), ".cache", "node-gyp", process.versions.node), // node-gyp's own cache
  ];
  return candidates.find(
    (dir) =>
      dir &&
      existsSync(join(dir, "include", "node", "node_api.h")) &&
      existsSync(join(dir, "include", "node", "common.gypi")),
  );
}

function findNodeGyp() {
  const require = createRequire(join(root, "package.json"));
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(require.resolve("node-gyp/bin/node-gyp.js"));
  } catch {
    // not installed locally: fall back to the copy bundled with npm
  }
  candidates.push(
    resolve(
      dirname(process.execPath),
      "..",
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    ),
  );
  return candidates.find((file) => file && existsSync(file));
}

function newestSourceTime() {
  const files = [join(nativeDir, "binding.gyp"), fileURLToPath(import.meta.url)];
  for (const name of readdirSync(join(nativeDir, "src"))) {
    if (name.endsWith(".c") || name.endsWith(".h")) files.push(join(nativeDir, "src", name));
  }
  return Math.max(...files.map((file) => statSync(file).mtimeMs));
}

function isUpToDate(arch) {
  if (!existsSync(output) || !existsSync(stampFile)) return false;
  try {
    const stamp = JSON.parse(readFileSync(stampFile, "utf8"));
    return stamp.arch === arch && statSync(output).mtimeMs >= newestSourceTime();
  } catch {
    return false;
  }
}

function main() {
  if (process.platform !== "linux") {
    console.log(
      `build-native: the TUN addon is Linux-only (it runs in the remote agent); nothing to build on ${process.platform}.`,
    );
    return;
  }
  const args = parseArgs(process.argv.slice(2));
  if (args.arch !== "x64" && args.arch !== "arm64")
    fail(`unsupported --arch=${args.arch} (use x64 or arm64)`);

  if (!args.force && !args.out && isUpToDate(args.arch)) {
    console.log("build-native: backhaul_native.node is up to date.");
    return;
  }

  const env = { ...process.env };
  const cross = args.arch !== process.arch;
  if (cross && !env.CC) env.CC = crossCompilers[args.arch];
  const compiler = env.CC ?? "cc";
  if (!findExecutable(compiler.split(" ")[0])) {
    fail(
      cross
        ? `the cross compiler ${compiler} was not found: install gcc-${compiler.replace(/-gcc$/, "")} (Debian/Ubuntu) or set CC.`
        : `the C compiler (${compiler}) was not found: install one (Debian/Ubuntu: apt-get install build-essential) or set CC.`,
    );
  }
  if (cross) env.LINK ??= env.CC;
  if (!findExecutable("make"))
    fail("make was not found: install it (Debian/Ubuntu: apt-get install build-essential).");
  if (!findExecutable("python3") && !env.PYTHON)
    fail("node-gyp needs python3: install it (Debian/Ubuntu: apt-get install python3) or set PYTHON.");

  const nodedir = findNodeHeaders();
  if (!nodedir) {
    fail(
      "Node.js headers (include/node/node_api.h) were not found next to this node binary or in node-gyp's cache; " +
        "set npm_config_nodedir to a directory containing include/node. They are not downloaded.",
    );
  }
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) fail("node-gyp was not found: run npm install (it is a devDependency).");

  // A build for another file (--out, e.g. the arm64 addon) happens in a copy of the sources:
  // node-gyp's build folder holds one architecture, and the x64 addon there must stay x64.
  const buildDir = args.out ? mkdtempSync(join(tmpdir(), "backhaul-native-")) : nativeDir;
  if (args.out) {
    copyFileSync(join(nativeDir, "binding.gyp"), join(buildDir, "binding.gyp"));
    cpSync(join(nativeDir, "src"), join(buildDir, "src"), { recursive: true });
  }
  const result = spawnSync(
    process.execPath,
    [
      nodeGyp,
      "rebuild",
      "--directory",
      buildDir,
      `--nodedir=${nodedir}`,
      `--arch=${args.arch}`,
      "--loglevel=warn",
    ],
    { stdio: "inherit", env },
  );
  if (result.error) fail(`could not run node-gyp: ${result.error.message}`);
  if (result.status !== 0)
    fail(`node-gyp failed (exit ${result.status ?? result.signal}); see the compiler output above.`);

  if (args.out) {
    mkdirSync(dirname(args.out), { recursive: true });
    copyFileSync(join(buildDir, "build/Release/backhaul_native.node"), args.out);
    rmSync(buildDir, { recursive: true, force: true });
    console.log(`build-native: built ${args.out} (linux-${args.arch}).`);
  } else {
    writeFileSync(stampFile, JSON.stringify({ arch: args.arch, nodedir }) + "\n");
    console.log(`build-native: built ${output} (linux-${args.arch}).`);
  }
}

main();
