import assert from "node:assert/strict";
import { test } from "node:test";
import type { TargetList, TargetSummary } from "../../shared/api.js";
import { arrangeTargets } from "./targets.js";

function codespace(name: string, repository: string, branch: string): TargetSummary {
  return {
    id: `codespace:${name}`,
    kind: "codespace",
    label: name.replace(/-/g, " "),
    detail: repository,
    codespace: { name, repository, branch, state: "Available", machine: "4-core" },
    lastUsedAt: null,
  };
}

const ssh = (alias: string): TargetSummary => ({
  id: alias,
  kind: "ssh",
  label: alias,
  detail: `dev@${alias}.corp.test:22`,
  codespace: null,
  lastUsedAt: null,
});

const LIST: TargetList = {
  targets: [
    ssh("devbox"),
    codespace("zany-space-fiesta", "octo/api", "main"),
    ssh("build"),
    codespace("fluffy-robot", "octo/web", "feature/login"),
    {
      id: "exec:kubectl exec -i devpod -- sh",
      kind: "exec",
      label: "devpod",
      detail: "kubectl exec -i devpod -- sh",
      codespace: null,
      lastUsedAt: null,
    },
    {
      id: "sandbox",
      kind: "sandbox",
      label: "This computer (sandbox)",
      detail: "",
      codespace: null,
      lastUsedAt: null,
    },
  ],
  recents: ["devbox", "gone-host", "codespace:fluffy-robot"],
  warnings: [],
};

const ids = (groups: ReturnType<typeof arrangeTargets>) =>
  groups.map((group) => [group.id, group.targets.map((target) => target.id)]);

test("recents come first in their order, listed once; the rest by kind, then label", () => {
  assert.deepEqual(ids(arrangeTargets(LIST, "")), [
    ["recent", ["devbox", "codespace:fluffy-robot"]],
    ["codespace", ["codespace:zany-space-fiesta"]],
    ["ssh", ["build"]],
    ["exec", ["exec:kubectl exec -i devpod -- sh"]],
    ["sandbox", ["sandbox"]],
  ]);
  assert.deepEqual(ids(arrangeTargets(LIST, "kubectl")), [["exec", ["exec:kubectl exec -i devpod -- sh"]]]);
});

test("the search matches repository, branch and host, every word, and drops empty groups", () => {
  assert.deepEqual(ids(arrangeTargets(LIST, "octo")), [
    ["recent", ["codespace:fluffy-robot"]],
    ["codespace", ["codespace:zany-space-fiesta"]],
  ]);
  assert.deepEqual(ids(arrangeTargets(LIST, "LOGIN octo/web")), [["recent", ["codespace:fluffy-robot"]]]);
  assert.deepEqual(ids(arrangeTargets(LIST, "corp.test")), [
    ["recent", ["devbox"]],
    ["ssh", ["build"]],
  ]);
  assert.deepEqual(ids(arrangeTargets(LIST, "sandbox")), [["sandbox", ["sandbox"]]]);
  assert.deepEqual(arrangeTargets(LIST, "nothing-like-this"), []);
});
