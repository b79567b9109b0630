import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, test } from "node:test";
import { listTargets, resolveTarget, TargetError, type TargetDeps } from "./index.js";
import { fakeGh, type FakeGh } from "./testing.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/ssh-config/", import.meta.url));
const sshConfig: TargetDeps["sshConfig"] = {
  home: join(FIXTURE, "home"),
  localUser: "dev",
  systemConfigPath: join(FIXTURE, "etc", "ssh", "ssh_config"),
  env: {},
};

let gh: FakeGh | undefined;
afterEach(async () => {
  await gh?.cleanup();
  gh = undefined;
});

describe("resolveTarget", () => {
  test("codespace:NAME is looked up in gh's list", async () => {
    gh = await fakeGh();
    const target = await resolveTarget("codespace:monalisa-sturdy-waddle-q7w9r6pxx2gj4", {
      sshConfig,
      gh: gh.options,
    });
    assert.equal(target.kind, "codespace");
    assert.equal(target.kind === "codespace" && target.state, "Shutdown");
  });

  test("an unknown codespace lists the ones to type instead", async () => {
    gh = await fakeGh();
    await assert.rejects(resolveTarget("codespace:nope", { sshConfig, gh: gh.options }), (error: unknown) => {
      assert.ok(error instanceof TargetError && error.code === "codespace-not-found");
      assert.match(
        error.message,
        /type one of codespace:monalisa-fluffy-umbrella-7v9g6jxq4fv5xj \(fluffy umbrella\)/,
      );
      return true;
    });
  });

  test("a Host alias gets its config; user@alias keeps the config but the typed user", async () => {
    const alias = await resolveTarget("bastion", { sshConfig });
    assert.ok(alias.kind === "ssh");
    assert.equal(alias.source, "ssh-config");
    assert.equal(alias.host, "bastion.corp.test");
    assert.equal(alias.user, "ops");
    const withUser = await resolveTarget("root@bastion", { sshConfig });
    assert.ok(withUser.kind === "ssh");
    assert.deepEqual(
      [withUser.source, withUser.label, withUser.user, withUser.port],
      ["ssh-config", "root@bastion", "root", 2222],
    );
  });

  test("an ssh:// URL is applied over the config, as ssh's command line is", async () => {
    const target = await resolveTarget("ssh://me@bastion:2200", { sshConfig });
    assert.ok(target.kind === "ssh");
    assert.deepEqual(
      [target.source, target.label, target.user, target.host, target.port],
      ["url", "ssh://me@bastion:2200", "me", "bastion.corp.test", 2200],
    );
  });

  test("user@host that the config does not name: the Host * defaults still apply", async () => {
    const warnings: string[] = [];
    const target = await resolveTarget("alice@198.18.9.9", { sshConfig, onWarning: (w) => warnings.push(w) });
    assert.ok(target.kind === "ssh");
    assert.deepEqual(
      [target.source, target.user, target.host, target.port],
      ["url", "alice", "198.18.9.9", 22],
    );
    assert.deepEqual(target.identityFiles, [join(FIXTURE, "home", ".ssh", "id_ed25519")]);
    assert.ok(warnings.some((warning) => warning.includes('"Match user root"')));
  });

  test("nonsense says what to type", async () => {
    await assert.rejects(resolveTarget("dev:22", { sshConfig }), /type ssh:\/\/dev:22/);
    await assert.rejects(resolveTarget("codespace:", { sshConfig }), /type codespace:NAME/);
  });
});

describe("exec: targets", () => {
  test("exec:COMMAND is split as sh would, and labelled as typed", async () => {
    const target = await resolveTarget(" exec:kubectl exec -i devpod -c 'my dev' -- sh ", { sshConfig });
    assert.deepEqual(target, {
      kind: "exec",
      spec: "exec:kubectl exec -i devpod -c 'my dev' -- sh",
      label: "exec:kubectl exec -i devpod -c 'my dev' -- sh",
      command: "kubectl exec -i devpod -c 'my dev' -- sh",
      argv: ["kubectl", "exec", "-i", "devpod", "-c", "my dev", "--", "sh"],
    });
  });

  test("a bad command is a bad-spec TargetError saying what is wrong", async () => {
    await assert.rejects(resolveTarget("exec:sh -c 'echo", { sshConfig }), (error: unknown) => {
      assert.ok(error instanceof TargetError && error.code === "bad-spec");
      assert.equal(error.message, "exec:sh -c 'echo: unbalanced single quote at character 7");
      return true;
    });
    await assert.rejects(resolveTarget("exec:", { sshConfig }), /type exec:COMMAND/);
  });

  test("a saved command is reached by its name, and by its command, under its name", async () => {
    const savedExec = [{ name: "devbox-docker", command: "docker exec -i devbox sh" }];
    const byName = await resolveTarget("devbox-docker", { sshConfig, savedExec });
    assert.ok(byName.kind === "exec");
    assert.deepEqual([byName.label, byName.spec], ["devbox-docker", "exec:docker exec -i devbox sh"]);
    const byCommand = await resolveTarget("exec:docker exec -i devbox sh", { sshConfig, savedExec });
    assert.equal(byCommand.kind === "exec" && byCommand.label, "devbox-docker");
  });

  test("saved commands are listed; one that no longer parses is a warning", async () => {
    gh = await fakeGh();
    const listing = await listTargets({
      sshConfig,
      gh: gh.options,
      savedExec: [
        { name: "pod", command: "kubectl exec -i pod -- sh" },
        { name: "broken", command: "sh -c 'x" },
      ],
    });
    assert.deepEqual(
      listing.exec.map((target) => [target.label, target.spec]),
      [["pod", "exec:kubectl exec -i pod -- sh"]],
    );
    assert.ok(
      listing.warnings.some((warning) => /^saved target broken: exec:sh -c 'x: unbalanced/.test(warning)),
    );
  });
});

describe("listTargets", () => {
  test("ssh config hosts and codespaces together", async () => {
    gh = await fakeGh();
    const listing = await listTargets({ sshConfig, gh: gh.options });
    assert.equal(listing.ssh.length, 14);
    assert.deepEqual(
      listing.codespaces.map((codespace) => codespace.name),
      ["monalisa-fluffy-umbrella-7v9g6jxq4fv5xj", "monalisa-sturdy-waddle-q7w9r6pxx2gj4"],
    );
    assert.ok(listing.warnings.every((warning) => warning.startsWith("SSH config: ")));
  });

  test("a failing provider is a warning; the other is still listed", async () => {
    gh = await fakeGh("not-logged-in");
    const listing = await listTargets({ sshConfig, gh: gh.options });
    assert.equal(listing.ssh.length, 14);
    assert.deepEqual(listing.codespaces, []);
    assert.ok(
      listing.warnings.includes(
        "Codespaces: GitHub CLI is not logged in to GitHub: run `gh auth login`, then try again",
      ),
    );
  });
});
