#!/usr/bin/env node
// `npm run dist`: builds dist/, then packages Backhaul with electron-builder (electron-builder.yml)
// for every target this machine can build, and says plainly what it cannot build and why.
//
//   npm run dist                 installers for this OS (Linux: AppImage and deb)
//   npm run dist -- --dir        only the unpacked app (electron-builder's `dir` target)
//   npm run dist -- --dry-run    print the plan; build nothing
//   --skip-build                 package the dist/ already built (the test suite built it, and
//                                rebuilding it would pull it from under the other suites)
//   --out=DIR                    write into DIR instead of out/
//
// Every target needs the Electron distribution for its OS and architecture: a zip from Electron's
// GitHub releases, outside the npm registry. It is taken, in this order, from
// $BACKHAUL_ELECTRON_DIST (a zip, a directory holding the zip, or an unpacked distribution),
// from node_modules/electron/dist (this OS only), or from Electron's download cache; failing
// those, electron-builder downloads it, where GitHub can be reached. The installers (not `dir`)
// also need electron-builder's own tools from GitHub (AppImage and fpm; NSIS; dmg on macOS only).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
import { electronRuntime } from "./electron-runtime.mjs";

const root = new URL("..", import.meta.url).pathname;
const OS_NAME = { linux: "Linux", darwin: "macOS", win32: "Windows" };
const BUILDER_FLAG = { linux: "--linux", darwin: "--mac", win32: "--win" };

export function electronVersion() {
  return JSON.parse(readFileSync(join(root, "node_modules", "electron", "package.json"), "utf8")).version;
}

export function electronZipName(version, platform, arch) {
  return `electron-v${version}-${platform}-${arch}.zip`;
}

export function electronReleaseUrl(version, platform, arch) {
  const mirror = process.env.ELECTRON_MIRROR ?? "https://github.com/electron/electron/releases/download/";
  return `${mirror}v${version}/${electronZipName(version, platform, arch)}`;
}

/** Where @electron/get (used by `electron` and by electron-builder) keeps downloaded zips. */
export function electronCacheDirs(env = process.env, platform = process.platform, home = homedir()) {
  const dirs = [env.electron_config_cache, env.ELECTRON_CACHE];
  if (platform === "darwin") dirs.push(join(home, "Library", "Caches", "electron"));
  else if (platform === "win32")
    dirs.push(join(env.LOCALAPPDATA ?? join(home, "AppData", "Local"), "electron", "Cache"));
  else
    dirs.push(
      join(env.XDG_CACHE_HOME?.startsWith("/") ? env.XDG_CACHE_HOME : join(home, ".cache"), "electron"),
    );
  return [...new Set(dirs.filter(Boolean))];
}

/** The runtime `npm install electron` unpacked for this machine, if it was downloaded. */
export function unpackedElectron() {
  return electronRuntime(root)?.dist ?? null;
}

/** A cached zip: @electron/get files them as <cache>/<hash of the URL>/<name>. */
function findCachedZip(name, cacheDirs) {
  for (const dir of cacheDirs) {
    if (existsSync(join(dir, name))) return dir;
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir)) {
      const candidate = join(dir, entry);
      if (statSync(candidate).isDirectory() && existsSync(join(candidate, name))) return candidate;
    }
  }
  return null;
}

/** The electronDist for one OS and architecture, or null when electron-builder would have to download it. */
export function electronSource({
  version,
  platform,
  arch,
  env = process.env,
  cacheDirs = electronCacheDirs(env),
}) {
  const native = platform === process.platform && arch === process.arch;
  if (env.BACKHAUL_ELECTRON_DIST && native)
    return { path: env.BACKHAUL_ELECTRON_DIST, from: "$BACKHAUL_ELECTRON_DIST" };
  const unpacked = native ? unpackedElectron() : null;
  if (unpacked) return { path: unpacked, from: "node_modules/electron/dist" };
  const cached = findCachedZip(electronZipName(version, platform, arch), cacheDirs);
  return cached ? { path: cached, from: "Electron's download cache" } : null;
}

function onPath(command) {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

/**
 * What to build on this machine and what not, and why not. Pure given its inputs:
 * `sources[platform-arch]` is an electronDist or null; `online` says whether GitHub's release
 * downloads answer; `wine` whether wine is installed.
 */
export function planDist({ host, hostArch, dirOnly, version, sources, online, wine }) {
  const wanted = dirOnly
    ? [{ platform: host, targets: ["dir"], archs: [hostArch] }]
    : [
        { platform: "linux", targets: ["AppImage", "deb"], archs: [host === "linux" ? hostArch : "x64"] },
        { platform: "darwin", targets: ["dmg"], archs: ["x64", "arm64"] },
        { platform: "win32", targets: ["nsis"], archs: ["x64"] },
      ];
  const builds = [];
  const cannot = [];
  for (const { platform, targets, archs } of wanted) {
    const what = `${OS_NAME[platform]} ${targets.join(" and ")}`;
    const blocker = platformBlocker(platform, host, wine);
    if (blocker) {
      cannot.push({ name: `${what} (${archs.join(", ")})`, why: blocker });
      continue;
    }
    // One electron-builder run per architecture: electronDist is one path per run.
    for (const arch of archs) {
      const name = `${what} (${arch})`;
      const source = sources[`${platform}-${arch}`];
      if (!source && !online) {
        cannot.push({
          name,
          why:
            `the Electron ${version} distribution (${electronZipName(version, platform, arch)}) is missing: ` +
            "node_modules/electron/dist was not downloaded, the zip is not in Electron's download cache, and " +
            "GitHub's release downloads cannot be reached from here (Electron comes from GitHub releases, " +
            "outside the npm registry)",
        });
      } else if (!targets.includes("dir") && !online) {
        cannot.push({
          name,
          why: "electron-builder downloads the tools that make these installers from GitHub, which cannot be reached from here",
        });
      } else {
        builds.push({
          name,
          args: [
            BUILDER_FLAG[platform],
            ...targets,
            `--${arch}`,
            "--publish",
            "never",
            ...(source ? [`-c.electronDist=${source.path}`] : []),
          ],
          electron: source ? source.from : "a download by electron-builder",
        });
      }
    }
  }
  return { builds, cannot };
}

function platformBlocker(platform, host, wine) {
  if (platform === host) return null;
  if (platform === "darwin")
    return "a dmg can only be built on macOS (hdiutil, and code signing for Gatekeeper)";
  if (platform === "win32" && host === "linux" && !wine)
    return "an NSIS installer is built on Windows, or on Linux with wine installed (it is not here)";
  if (platform === "win32" && host === "linux") return null;
  if (platform === "linux" && host === "darwin") return null;
  return `${OS_NAME[platform]} packages are not built on ${OS_NAME[host] ?? host}`;
}

/** Whether Electron's GitHub release downloads answer (a HEAD request; any HTTP answer counts). */
async function githubReachable(url) {
  try {
    await fetch(url, { method: "HEAD", redirect: "manual", signal: AbortSignal.timeout(8_000) });
    return { online: true, error: null };
  } catch (error) {
    const cause = error?.cause;
    const why = cause?.code
      ? [cause.code, cause.hostname].filter(Boolean).join(" ")
      : (cause?.message ?? error?.message);
    return { online: false, error: why ?? String(error) };
  }
}

function howToBuildElsewhere(version) {
  return [
    "To build them, on a machine that can reach Electron's GitHub releases:",
    "  npm ci && npm run dist          # macOS: the dmg (x64, arm64); Windows: the NSIS installer;",
    "                                  # Linux: AppImage and deb (and NSIS too where wine is installed)",
    "Or, offline, put the Electron zip where this script looks, and run it again:",
    `  BACKHAUL_ELECTRON_DIST=/path/to/${electronZipName(version, process.platform, process.arch)} npm run dist -- --dir`,
    `  (from https://github.com/electron/electron/releases/tag/v${version}; or copy it into ${electronCacheDirs()[0]})`,
  ].join("\n");
}

async function main() {
  const args = process.argv.slice(2);
  const dirOnly = args.includes("--dir");
  const dryRun = args.includes("--dry-run");
  const skipBuild = args.includes("--skip-build");
  const outDir = args.find((arg) => arg.startsWith("--out="))?.slice("--out=".length);
  const unknown = args.filter(
    (arg) => !["--dir", "--dry-run", "--skip-build"].includes(arg) && !arg.startsWith("--out="),
  );
  if (unknown.length > 0 || outDir === "") {
    console.error(
      `dist: unknown option ${unknown.join(" ") || "--out="} (use --dir, --dry-run, --skip-build, --out=DIR)`,
    );
    process.exit(2);
  }

  const version = electronVersion();
  const host = process.platform;
  const hostArch = process.arch;
  const sources = {};
  for (const platform of ["linux", "darwin", "win32"])
    for (const arch of ["x64", "arm64"])
      sources[`${platform}-${arch}`] = electronSource({ version, platform, arch });
  const probe = await githubReachable(electronReleaseUrl(version, host, hostArch));
  const plan = planDist({
    host,
    hostArch,
    dirOnly,
    version,
    sources,
    online: probe.online,
    wine: onPath("wine"),
  });

  if (!probe.online)
    console.log(`dist: GitHub's release downloads cannot be reached from here (${probe.error}).`);
  if (!dryRun && !skipBuild) {
    const build = spawnSync(process.execPath, [join(root, "scripts", "build.mjs")], {
      cwd: root,
      stdio: "inherit",
    });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }

  const failed = [];
  const built = [];
  for (const { name, args: planned, electron } of plan.builds) {
    const builderArgs = outDir ? [...planned, `-c.directories.output=${outDir}`] : planned;
    console.log(`\ndist: ${name}, with Electron ${version} from ${electron}`);
    console.log(`dist: electron-builder ${builderArgs.join(" ")}`);
    if (dryRun) continue;
    const result = spawnSync(
      process.execPath,
      [join(root, "node_modules", "electron-builder", "cli.js"), ...builderArgs],
      { cwd: root, stdio: "inherit" },
    );
    if (result.status === 0) built.push(name);
    else failed.push(name);
  }

  console.log("");
  if (built.length > 0) console.log(`dist: built into ${outDir ?? "out/"}: ${built.join("; ")}`);
  if (plan.cannot.length > 0) {
    console.log(`dist: cannot build here (${plan.cannot.length}):`);
    for (const { name, why } of plan.cannot) console.log(`  - ${name}: ${why}.`);
    console.log(howToBuildElsewhere(version));
  }
  if (failed.length > 0) {
    console.error(`dist: electron-builder failed for: ${failed.join("; ")} (see its output above)`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
