// The Codespaces provider against e2e/fake-gh/gh: the real code runs `gh` as it would in use, only
// the executable is a fake, and the fake's argv log shows the exact commands.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, test } from "node:test";
import ssh2 from "ssh2";
import { ensureCodespaceKey } from "./codespace-key.js";
import {
  codespaceSshTarget,
  listCodespaces,
  parseCodespaceList,
  startCodespace,
  type StartProgress,
} from "./codespaces.js";
import { TargetError, type TargetErrorCode } from "./errors.js";
import { FAKE_GH, fakeGh, type FakeGh } from "./testing.js";

const UMBRELLA = "monalisa-fluffy-umbrella-7v9g6jxq4fv5xj";
const WADDLE = "monalisa-sturdy-waddle-q7w9r6pxx2gj4";
const LIST = [
  "codespace",
  "list",
  "--json",
  "name,displayName,repository,gitStatus,state,machineName",
  "--limit",
  "100",
];

let gh: FakeGh | undefined;
afterEach(async () => {
  await gh?.cleanup();
  gh = undefined;
});

async function rejectsWith(promise: Promise<unknown>, code: TargetErrorCode, says: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TargetError, String(error));
    assert.equal(error.code, code);
    assert.ok(error.message.includes(says), `"${error.message}" does not say "${says}"`);
    return true;
  });
}

describe("listCodespaces", () => {
  test("runs gh codespace list --json with gh's field names and parses every codespace", async () => {
    gh = await fakeGh();
    assert.deepEqual(await listCodespaces(gh.options), [
      {
        kind: "codespace",
        name: UMBRELLA,
        displayName: "fluffy umbrella",
        repository: "octo-org/backhaul-demo",
        branch: "main",
        state: "Available",
        machine: "basicLinux32gb",
      },
      {
        kind: "codespace",
        name: WADDLE,
        displayName: WADDLE,
        repository: "monalisa/dotfiles",
        branch: "feature/l3-tunnel",
        state: "Shutdown",
        machine: null,
      },
    ]);
    assert.deepEqual(await gh.calls(), [LIST]);
  });

  test("not logged in: exit 4 becomes 'run gh auth login'", async () => {
    gh = await fakeGh("not-logged-in");
    await rejectsWith(listCodespaces(gh.options), "gh-not-logged-in", "run `gh auth login`");
  });

  test("a token without the codespace scope: the exact command to add it", async () => {
    gh = await fakeGh("missing-scope");
    await rejectsWith(
      listCodespaces(gh.options),
      "gh-missing-scope",
      "run `gh auth refresh -h github.com -s codespace`",
    );
  });

  test("a gh that predates displayName/machineName is told to upgrade", async () => {
    gh = await fakeGh("old-gh");
    await rejectsWith(listCodespaces(gh.options), "gh-too-old", 'Unknown JSON field: "displayName"');
  });

  test("no gh at all: where to install it", async () => {
    await rejectsWith(
      listCodespaces({ ghPath: join(tmpdir(), "no-such-dir", "gh") }),
      "gh-missing",
      "install GitHub CLI: https://cli.github.com",
    );
    await rejectsWith(listCodespaces({ env: { PATH: "" } }), "gh-missing", "was not found on PATH");
  });
});

describe("parseCodespaceList", () => {
  test("output that is not gh's list is an error asking to upgrade gh, not a crash", () => {
    assert.throws(
      () => parseCodespaceList("<html>"),
      /printed something unexpected \(it is not JSON\): upgrade/,
    );
    assert.throws(() => parseCodespaceList('{"name":"x"}'), /not a JSON array/);
    assert.throws(() => parseCodespaceList('[{"state":"Available"}]'), /entry 0 has no name/);
    assert.deepEqual(parseCodespaceList("[]"), []);
  });
});

describe("codespaceSshTarget", () => {
  test("parses gh codespace ssh --config into the SSH target gh itself uses", async () => {
    gh = await fakeGh();
    const key = join(gh.home, ".ssh", "codespaces.auto");
    const target = await codespaceSshTarget(UMBRELLA, {
      ...gh.options,
      sshConfig: { home: gh.home, localUser: "dev" },
    });
    assert.deepEqual(target, {
      kind: "ssh",
      label: `codespace:${UMBRELLA}`,
      host: `cs.${UMBRELLA}.main`,
      port: 22,
      user: "codespace",
      identityFiles: [key],
      proxyJump: null,
      proxyCommand: `${FAKE_GH} cs ssh -c ${UMBRELLA} --stdio -- -i ${key}`,
      hostKeyAlias: null,
      strictHostKeyChecking: "no",
      userKnownHostsFiles: ["/dev/null"],
      source: "codespace",
    });
    assert.deepEqual(await gh.calls(), [["codespace", "ssh", "--config", "-c", UMBRELLA]]);
  });

  test("a stopped codespace: gh starts it and prints its user (vscode) and flattened branch", async () => {
    gh = await fakeGh();
    const target = await codespaceSshTarget(WADDLE, gh.options);
    assert.equal(target.user, "vscode");
    assert.equal(target.host, `cs.${WADDLE}.feature-l3-tunnel`);
    assert.equal((await gh.codespaces()).find((c) => c.name === WADDLE)?.state, "Available");
  });

  test("an unknown codespace says how to list yours", async () => {
    gh = await fakeGh();
    await rejectsWith(
      codespaceSshTarget("monalisa-gone-123", gh.options),
      "codespace-not-found",
      "run `gh codespace list`",
    );
  });

  test("a name that is not a codespace slug never reaches gh", async () => {
    gh = await fakeGh();
    await rejectsWith(codespaceSshTarget("../../user", gh.options), "bad-spec", "is not a codespace name");
    assert.deepEqual(await gh.calls(), []);
  });
});

describe("startCodespace", () => {
  test("asks GitHub to start a Shutdown codespace and reports each state until Available", async () => {
    gh = await fakeGh();
    const progress: StartProgress[] = [];
    await startCodespace(WADDLE, (step) => progress.push(step), { ...gh.options, pollIntervalMs: 5 });
    assert.deepEqual(
      progress.map((step) => step.state),
      ["Shutdown", "Starting", "Available"],
    );
    assert.equal(progress[0]?.message, `Starting codespace ${WADDLE} (this can take a minute)`);
    const view = ["codespace", "view", "-c", WADDLE, "--json", "state"];
    assert.deepEqual(await gh.calls(), [
      view,
      ["api", "--method", "POST", `user/codespaces/${WADDLE}/start`],
      view,
      view,
    ]);
  });

  test("an Available codespace needs one look and no start", async () => {
    gh = await fakeGh();
    const states: string[] = [];
    await startCodespace(UMBRELLA, (step) => states.push(step.state), gh.options);
    assert.deepEqual(states, ["Available"]);
    assert.deepEqual(await gh.calls(), [["codespace", "view", "-c", UMBRELLA, "--json", "state"]]);
  });

  test("gh's login problems surface here too", async () => {
    gh = await fakeGh("missing-scope");
    await rejectsWith(
      startCodespace(WADDLE, () => undefined, gh.options),
      "gh-missing-scope",
      "-s codespace",
    );
  });
});

describe("ensureCodespaceKey", () => {
  test("creates gh's key pair once, private 0600, and leaves an existing one alone", async () => {
    const dir = await mkdtemp(join(tmpdir(), "backhaul-key-"));
    try {
      const key = join(dir, ".ssh", "codespaces.auto");
      assert.equal(await ensureCodespaceKey(key), true);
      assert.equal((await stat(key)).mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, ".ssh"))).mode & 0o777, 0o700);
      const parsed = ssh2.utils.parseKey(await readFile(key));
      assert.ok(!(parsed instanceof Error) && parsed.type === "ssh-ed25519");
      assert.match(await readFile(`${key}.pub`, "utf8"), /^ssh-ed25519 [A-Za-z0-9+/=]+\n$/);
      const before = await readFile(key, "utf8");
      assert.equal(await ensureCodespaceKey(key), false);
      assert.equal(await readFile(key, "utf8"), before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a private key without its .pub is not overwritten; the message says how to fix it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "backhaul-key-"));
    try {
      const key = join(dir, "codespaces.auto");
      await writeFile(key, "not ours", { mode: 0o600 });
      await rejectsWith(ensureCodespaceKey(key), "codespace-key", `ssh-keygen -y -f ${key}`);
      assert.equal(await readFile(key, "utf8"), "not ours");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
