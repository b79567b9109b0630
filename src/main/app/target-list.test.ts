import assert from "node:assert/strict";
import { test } from "node:test";
import { execTarget, type SshTarget } from "../broker/targets/index.js";
import { targetList } from "./target-list.js";

const host: SshTarget = {
  kind: "ssh",
  label: "devbox",
  host: "2001:db8::5",
  port: 2222,
  user: "me",
  identityFiles: [],
  proxyJump: null,
  proxyCommand: null,
  hostKeyAlias: null,
  strictHostKeyChecking: null,
  userKnownHostsFiles: [],
  source: "ssh-config",
};

test("codespaces, SSH hosts, saved commands and the sandbox, with recents and provider warnings", () => {
  const list = targetList(
    {
      ssh: [host],
      codespaces: [
        {
          kind: "codespace",
          name: "octo-xyz",
          displayName: "octo demo",
          repository: "octo/demo",
          branch: "main",
          state: "Shutdown",
          machine: "basicLinux32gb",
        },
      ],
      exec: [execTarget("exec:kubectl exec -i devpod -- sh", "devpod")],
      warnings: ["Codespaces: gh is not installed"],
    },
    { sandbox: true, recents: ["devbox"], lastUsedAt: (id) => (id === "devbox" ? 42 : null) },
  );
  assert.deepEqual(
    list.targets.map((t) => [t.id, t.kind, t.label, t.detail, t.lastUsedAt]),
    [
      ["codespace:octo-xyz", "codespace", "octo demo", "octo/demo", null],
      ["devbox", "ssh", "devbox", "me@[2001:db8::5]:2222", 42],
      ["exec:kubectl exec -i devpod -- sh", "exec", "devpod", "kubectl exec -i devpod -- sh", null],
      ["sandbox", "sandbox", "This computer (sandbox)", list.targets[3]!.detail, null],
    ],
  );
  assert.equal(list.targets[0]!.codespace?.state, "Shutdown");
  assert.deepEqual(list.recents, ["devbox"]);
  assert.deepEqual(list.warnings, ["Codespaces: gh is not installed"]);
  assert.equal(
    targetList(
      { ssh: [], codespaces: [], exec: [], warnings: [] },
      { sandbox: false, recents: [], lastUsedAt: () => null },
    ).targets.length,
    0,
  );
});
