// The Node.js runtimes the build put beside the agent (scripts/node-runtimes.mjs): one gzip file
// per architecture and a manifest saying its version and the SHA-256 of the binary inside.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Arch } from "./probe.js";

export const RUNTIME_MANIFEST = "node-runtimes.json";

export interface NodeRuntime {
  arch: Arch;
  /** "20.20.2". */
  version: string;
  /** The gzip file on this computer. */
  path: string;
  /** Of the uncompressed binary: what lands on the remote and what root checks. */
  sha256: string;
  bytes: number;
  gzipBytes: number;
}

function isEntry(value: unknown): value is Omit<NodeRuntime, "path"> & { file: string } {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    (entry.arch === "x64" || entry.arch === "arm64") &&
    typeof entry.version === "string" &&
    /^\d+\.\d+\.\d+$/.test(entry.version) &&
    typeof entry.file === "string" &&
    /^[\w.-]+$/.test(entry.file) &&
    typeof entry.sha256 === "string" &&
    /^[0-9a-f]{64}$/.test(entry.sha256) &&
    Number.isInteger(entry.bytes) &&
    Number.isInteger(entry.gzipBytes)
  );
}

/** The runtimes in `agentDir`; none when the build had no registry to fetch them from. */
export async function loadNodeRuntimes(agentDir: string): Promise<NodeRuntime[]> {
  let text: string;
  try {
    text = await readFile(join(agentDir, RUNTIME_MANIFEST), "utf8");
  } catch {
    return [];
  }
  const entries: unknown = JSON.parse(text);
  if (!Array.isArray(entries)) return [];
  return entries.filter(isEntry).map(({ arch, version, file, sha256, bytes, gzipBytes }) => ({
    arch,
    version,
    path: join(agentDir, file),
    sha256,
    bytes,
    gzipBytes,
  }));
}

/** Where a runtime lives on the remote, relative to $HOME: one directory per version and binary. */
export function runtimeCacheDir(runtime: NodeRuntime): string {
  return `.cache/backhaul/node/${runtime.version}-${runtime.sha256.slice(0, 16)}`;
}
