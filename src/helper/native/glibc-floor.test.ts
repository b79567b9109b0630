// The addon runs on remotes whose C library may be older than this machine's: it must not ask
// glibc for symbol versions newer than GLIBC_FLOOR, whatever glibc it was built on. 2.17 is the
// floor of Node's glibc-217 builds (CentOS 7 and RHEL 7 remotes); Node's official builds need
// 2.28, so the addon must never be what stops a remote before Node does. A symbol version the
// addon needs is named in its .dynstr, which a scan of the file's bytes finds.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { NATIVE_FILE_NAME } from "./load-addon.js";

const GLIBC_FLOOR = [2, 17] as const;
const root = fileURLToPath(new URL("../../..", import.meta.url));
const builds = [
  join(root, "src", "helper", "native", "build", "Release", NATIVE_FILE_NAME),
  join(root, "dist", "agent", NATIVE_FILE_NAME),
  join(root, "dist", "agent", "arm64", NATIVE_FILE_NAME),
];

/** The GLIBC_x.y[.z] versions an ELF file's bytes name, newest first. */
export function glibcVersions(bytes: Buffer): string[] {
  const found = new Set(bytes.toString("latin1").match(/GLIBC_\d+\.\d+(?:\.\d+)?/g) ?? []);
  const key = (name: string): number[] => name.slice("GLIBC_".length).split(".").map(Number);
  return [...found].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (y[i] ?? 0) - (x[i] ?? 0);
    return 0;
  });
}

const newerThanFloor = (name: string): boolean => {
  const [major = 0, minor = 0] = name.slice("GLIBC_".length).split(".").map(Number);
  return major > GLIBC_FLOOR[0] || (major === GLIBC_FLOOR[0] && minor > GLIBC_FLOOR[1]);
};

test("reads the versions an addon asks for, and tells which are past the floor", () => {
  const bytes = Buffer.from("\0fcntl64\0GLIBC_2.28\0GLIBC_2.2.5\0GLIBC_2.14\0GLIBC_PRIVATE\0GLIBC_2.28\0");
  assert.deepEqual(glibcVersions(bytes), ["GLIBC_2.28", "GLIBC_2.14", "GLIBC_2.2.5"]);
  assert.deepEqual(glibcVersions(bytes).filter(newerThanFloor), ["GLIBC_2.28"]);
});

for (const file of builds)
  test(
    `${file.slice(root.length)} needs nothing newer than GLIBC_${GLIBC_FLOOR.join(".")}`,
    { skip: existsSync(file) ? false : `${file.slice(root.length)} is not built (npm run build)` },
    () => {
      const versions = glibcVersions(readFileSync(file));
      assert.ok(versions.length > 0, "an addon that links glibc names its versions");
      assert.deepEqual(versions.filter(newerThanFloor), [], `versions asked for: ${versions.join(", ")}`);
    },
  );
