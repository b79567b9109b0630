// scripts/ensure-test-deps.sh installs every Debian package whose commands the e2e suites run:
// a package missing there makes a fresh machine skip or fail a suite (procps/sysctl once did).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { SSH_TOOL_PACKAGES } from "../sshd/preconditions.js";
import { TOOL_PACKAGES } from "./preconditions.js";

const SCRIPT = new URL("../../scripts/ensure-test-deps.sh", import.meta.url);

/** The names in the script's `packages=( ... )` array, comments dropped. */
function installedPackages(): string[] {
  const body = /^packages=\(\n([\s\S]*?)^\)/m.exec(readFileSync(SCRIPT, "utf8"))?.[1];
  assert.ok(body, "ensure-test-deps.sh has a packages=( ... ) array");
  return body.split("\n").flatMap((line) => line.replace(/#.*/, "").trim().split(/\s+/).filter(Boolean));
}

test("ensure-test-deps.sh installs the package of every command the e2e suites run", () => {
  const packages = installedPackages();
  const needed: (readonly [tool: string, pkg: string])[] = [
    ...Object.entries(TOOL_PACKAGES),
    ...SSH_TOOL_PACKAGES,
    ["sshd", "openssh-server"],
  ];
  const missing = needed
    .filter(([, pkg]) => !packages.includes(pkg))
    .map(([tool, pkg]) => `${tool} (${pkg})`);
  assert.deepEqual(missing, [], `not installed by ensure-test-deps.sh: ${missing.join(", ")}`);
});
