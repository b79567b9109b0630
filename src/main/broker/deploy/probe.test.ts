// The probe: its parser and judge on recorded outputs, and the script itself run by a local sh.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DeployFailedError, RemoteNotReadyError } from "./errors.js";
import {
  archOf,
  buildProbeScript,
  judgeProbe,
  nodeMajor,
  parseProbeOutput,
  type ProbeResult,
} from "./probe.js";

const SHA = "a".repeat(64);

/** What a Debian dev box printed, as a normal user with passwordless sudo and an earlier deploy. */
const READY_USER = [
  "uname=Linux x86_64",
  "uid=1000",
  "user=dev",
  "home=/home/dev",
  "node=/usr/bin/node",
  "node_version=v20.19.2",
  "tun=yes",
  "sudo=ok",
  "sha256sum=yes",
  `cached:.cache/backhaul/agent/0.1.0-0123456789abcdef/backhaul-agent.cjs=134647 ${SHA}`,
  "done=yes",
  "",
].join("\n");

function probe(overrides: Partial<Record<string, string | null>>): ProbeResult {
  const lines = READY_USER.split("\n").filter((line) => {
    const key = line.slice(0, line.indexOf("="));
    return !(key in overrides);
  });
  for (const [key, value] of Object.entries(overrides)) if (value !== null) lines.unshift(`${key}=${value}`);
  return parseProbeOutput(lines.join("\n"));
}

const judge = (result: ProbeResult, remoteNode: string | null = null) =>
  judgeProbe(result, { remoteNode, addonArchs: ["x64"] });

test("parses a ready remote", () => {
  const result = parseProbeOutput(READY_USER);
  assert.equal(result.kernel, "Linux");
  assert.equal(result.machine, "x86_64");
  assert.equal(result.uid, 1000);
  assert.deepEqual(result.node, { path: "/usr/bin/node", version: "v20.19.2" });
  assert.equal(result.sudo, "ok");
  assert.deepEqual(result.cached.get(".cache/backhaul/agent/0.1.0-0123456789abcdef/backhaul-agent.cjs"), {
    size: 134647,
    sha256: SHA,
  });
  assert.deepEqual(judge(result), {
    problems: [],
    verdict: { arch: "x64", nodePath: "/usr/bin/node", sudo: "no-password" },
  });
});

test("root needs no sudo, whatever sudo is", () => {
  const result = probe({ uid: "0", user: "root", sudo: null });
  assert.equal(result.sudo, "root");
  assert.equal(judge(result).verdict?.sudo, "none");
});

test("sudo that wants a password: started with -S when someone can be asked, refused otherwise", () => {
  const result = probe({ sudo: "password", sudo_error: "sudo: a password is required" });
  const asked = judgeProbe(result, { remoteNode: null, addonArchs: ["x64"], canAskSudoPassword: true });
  assert.deepEqual(asked, {
    problems: [],
    verdict: { arch: "x64", nodePath: "/usr/bin/node", sudo: "password" },
  });
  const nobody = judge(result);
  assert.deepEqual(
    nobody.problems.map((p) => p.code),
    ["SUDO_NEEDS_PASSWORD"],
  );
  assert.match(
    nobody.problems[0]?.message ?? "",
    /nobody to ask: connect from a terminal, or pass --sudo-password-stdin/,
  );
});

test("a shell that did not run the script is a DeployFailedError with what it said", () => {
  assert.throws(
    () => parseProbeOutput("", "This account is currently not available.\n"),
    (error: unknown) => error instanceof DeployFailedError && /currently not available/.test(error.message),
  );
  assert.throws(() => parseProbeOutput(READY_USER.replace("done=yes", "")), DeployFailedError);
});

test("not Linux: that alone is reported", () => {
  const { problems, verdict } = judge(probe({ uname: "Darwin arm64", tun: "no", node: null }));
  assert.equal(verdict, undefined);
  assert.deepEqual(
    problems.map((p) => p.code),
    ["NOT_LINUX"],
  );
  assert.match(problems[0]?.message ?? "", /Backhaul's agent needs a Linux remote; this one runs Darwin/);
});

test("every other problem is reported at once, each with its fix", () => {
  const { problems } = judge(
    probe({
      uname: "Linux aarch64",
      node_version: "v16.20.0",
      tun: "no",
      sudo: "password",
      sudo_error: "sudo: a password is required",
    }),
  );
  assert.deepEqual(
    problems.map((p) => p.code),
    ["NO_ADDON_FOR_ARCH", "NODE_TOO_OLD", "NO_TUN", "SUDO_NEEDS_PASSWORD"],
  );
  const text = new RemoteNotReadyError("box.test", problems).message;
  assert.match(text, /build-native\.mjs --arch=arm64/);
  assert.match(text, /v16\.20\.0.*install Node\.js 18\+ on the remote, or pass --remote-node PATH/);
  assert.match(text, /--device \/dev\/net\/tun/);
  assert.match(text, /a password is required/);
  assert.match(text, /--sudo-password-stdin.*check its SHA-256/);
  assert.doesNotMatch(text, /NOPASSWD/, "no sudoers line that would give all of root");
});

test("Node.js missing: from the PATH, or at the path the user gave", () => {
  assert.match(
    judge(probe({ node: null, node_version: null })).problems[0]?.message ?? "",
    /no `node` on the PATH/,
  );
  const given = judge(probe({ node: null, node_version: null }), "/opt/node/bin/node").problems[0];
  assert.equal(given?.code, "NODE_MISSING");
  assert.match(given?.message ?? "", /not found at \/opt\/node\/bin\/node.*--remote-node PATH/);
});

test("sudo missing, an unknown processor, no home", () => {
  const codes = judge(probe({ sudo: "missing", uname: "Linux riscv64", home: "" })).problems.map(
    (p) => p.code,
  );
  assert.deepEqual(codes, ["UNSUPPORTED_ARCH", "NO_HOME", "SUDO_MISSING"]);
});

test("helpers", () => {
  assert.equal(archOf("x86_64"), "x64");
  assert.equal(archOf("aarch64"), "arm64");
  assert.equal(archOf("armv7l"), undefined);
  assert.equal(nodeMajor("v18.0.0"), 18);
  assert.equal(nodeMajor("bash: node: command not found"), undefined);
});

test("the script runs in a real sh and reports the cache by size and sha256", async (t) => {
  const home = await mkdtemp(join(tmpdir(), "backhaul-probe-"));
  t.after(() => rm(home, { recursive: true, force: true }));
  const dir = ".cache/backhaul/agent/0.1.0-x";
  await mkdir(join(home, dir), { recursive: true });
  await writeFile(join(home, dir, "backhaul-agent.cjs"), "agent bytes");
  const script = buildProbeScript({
    remoteNode: process.execPath,
    cacheDirs: [dir, ".cache/backhaul/agent/other"],
    files: ["backhaul-agent.cjs", "backhaul_native.node"],
  });
  // A stand-in sudo first on the PATH: the test must not run the real one on a developer's machine.
  const bin = join(home, "bin");
  await mkdir(bin);
  await writeFile(join(bin, "sudo"), "#!/bin/sh\necho 'sudo: a password is required' >&2\nexit 1\n", {
    mode: 0o755,
  });
  const env = { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH ?? ""}` };
  const stdout = execFileSync("sh", ["-c", script], { encoding: "utf8", env });
  const result = parseProbeOutput(stdout);
  assert.equal(result.kernel, process.platform === "linux" ? "Linux" : result.kernel);
  assert.equal(result.home, home);
  assert.deepEqual(result.node, { path: process.execPath, version: process.version });
  if (result.uid !== 0) {
    assert.equal(result.sudo, "password");
    assert.equal(result.sudoError, "sudo: a password is required");
  }
  assert.deepEqual(
    [...result.cached.entries()],
    [
      [
        `${dir}/backhaul-agent.cjs`,
        { size: 11, sha256: createHash("sha256").update("agent bytes").digest("hex") },
      ],
    ],
  );
});

test("the remote's values and its shell's complaints reach the user without escape sequences", () => {
  const osc52 = "\u001b]52;c;cm0gLXJmIH4=\u0007";
  const result = probe({
    user: `dev${osc52}`,
    node_version: `v16.0.0${osc52}`,
    sudo: "password",
    sudo_error: `sudo: no${osc52}\u202e`,
  });
  assert.equal(result.user, "dev");
  assert.equal(result.node?.version, "v16.0.0");
  assert.equal(result.sudoError, "sudo: no\uFFFD");
  const text = new RemoteNotReadyError("box.test", judge(result).problems).message;
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const escapes = /\u001b|\u0007|52;c;/;
  assert.doesNotMatch(text, escapes);
  assert.throws(
    () => parseProbeOutput("", `not available${osc52}\n`),
    (error: unknown) => error instanceof DeployFailedError && !escapes.test(error.message),
  );
});

test("no Node.js 18+ and a runtime for the arch: ours is brought, unless the user named a node", () => {
  const bring = (result: ProbeResult, remoteNode: string | null = null) =>
    judgeProbe(result, { remoteNode, addonArchs: ["x64"], runtimeArchs: ["x64"] });
  const tools = { sha256sum: "yes", gzip: "yes" };
  assert.equal(bring(probe({ ...tools, node: null, node_version: null })).verdict?.nodePath, null);
  assert.equal(bring(probe({ ...tools, node_version: "v16.20.0" })).verdict?.nodePath, null);
  assert.equal(bring(probe({ ...tools })).verdict?.nodePath, "/usr/bin/node", "a Node.js 18+ there is used");
  const named = bring(probe({ ...tools, node: null, node_version: null }), "/opt/node/bin/node");
  assert.deepEqual(
    named.problems.map((p) => p.code),
    ["NODE_MISSING"],
  );
  const noGzip = bring(probe({ sha256sum: "yes", gzip: null, node: null, node_version: null }));
  assert.match(noGzip.problems[0]?.message ?? "", /needs gzip and sha256sum/);
  const arm = judgeProbe(probe({ ...tools, uname: "Linux aarch64", node: null, node_version: null }), {
    remoteNode: null,
    addonArchs: ["x64", "arm64"],
    runtimeArchs: ["x64"],
  });
  assert.deepEqual(
    arm.problems.map((p) => p.code),
    ["NODE_MISSING"],
    "no arm64 runtime in this build: the remote's Node.js is needed",
  );
});

test("the architecture comes from `uname -sm` as remotes print it", () => {
  const both = { remoteNode: null, addonArchs: ["x64", "arm64"] as const };
  // Recorded: a Graviton dev box, an Apple-silicon Linux VM, an x86-64 codespace, a Raspberry Pi (32-bit).
  for (const [uname, arch] of [
    ["Linux aarch64", "arm64"],
    ["Linux arm64", "arm64"],
    ["Linux x86_64", "x64"],
  ] as const)
    assert.equal(judgeProbe(probe({ uname }), both).verdict?.arch, arch, uname);
  assert.deepEqual(
    judgeProbe(probe({ uname: "Linux armv7l" }), both).problems.map((p) => p.code),
    ["UNSUPPORTED_ARCH"],
  );
});

test("the proxy entrance needs neither /dev/net/tun nor sudo, and runs as the user", () => {
  const result = probe({ tun: "no", sudo: "missing" });
  assert.deepEqual(
    judge(result).problems.map((p) => p.code),
    ["NO_TUN", "SUDO_MISSING"],
  );
  assert.deepEqual(judgeProbe(result, { remoteNode: null, addonArchs: ["x64"], entrance: "proxy" }), {
    problems: [],
    verdict: { arch: "x64", nodePath: "/usr/bin/node", sudo: "none" },
  });
});
