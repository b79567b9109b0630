// The layer rule (scripts/eslint-layers.mjs) through ESLint itself, with this repository's
// config, on files written at virtual paths inside each layer: every deliberate violation is
// reported, and the same imports that a layer may make are not.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const eslint = new ESLint({ cwd: ROOT });

/** The layer rule's complaints about `code` as the file at `path`, one line each. */
async function layerProblems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  assert.ok(result, `ESLint linted ${path}`);
  assert.deepEqual(
    result.messages.filter((message) => message.fatal),
    [],
    `${path} parses`,
  );
  return result.messages
    .filter((message) => message.ruleId === "backhaul/layers")
    .map((message) => `${message.line}: ${message.message}`);
}

function assertReportedLines(problems: string[], expected: number[]): void {
  assert.deepEqual(
    problems.map((problem) => Number(problem.split(":")[0])),
    expected,
    problems.join("\n"),
  );
}

function lines(...imports: string[]): string {
  return imports.join("\n") + "\n";
}

describe("the layer rule", () => {
  test("the renderer imports no Node module, nothing from main or the helper", async () => {
    const problems = await layerProblems(
      "src/renderer/components/LayerProbe.tsx",
      lines(
        'import { readFile } from "node:fs/promises";',
        'import { join } from "path";',
        'import { AppController } from "../../main/app/controller.js";',
        'export { parseIp } from "../../helper/packet/ip.js";',
        'const cli = import("../../main/cli.js");',
        "void [readFile, join, AppController, cli];",
      ),
    );
    assertReportedLines(problems, [1, 2, 3, 4, 5]);
    assert.match(problems[0] ?? "", /no Node module \(node:fs\/promises\)/);
    assert.match(problems[2] ?? "", /never src\/main/);
  });

  test("the engines import nothing from main or the renderer, at any depth", async () => {
    const problems = await layerProblems(
      "src/helper/nat/tcp/layer-probe.ts",
      lines(
        'import type { Session } from "../../../main/broker/session.js";',
        'export * from "../../../renderer/state/steps.js";',
        'import { runCommand } from "../../run-command.js";',
        'import { parsePrefix } from "../../../shared/ip-prefix.js";',
        'import { connect } from "node:net";',
        "export type Probe = Session;",
        "void [runCommand, parsePrefix, connect];",
      ),
    );
    assert.deepEqual(problems, [
      "1: the engines and the processes in src/helper import nothing from src/main",
      "2: the engines and the processes in src/helper import nothing from src/renderer",
    ]);
  });

  test("src/shared imports only src/shared and the pure libraries", async () => {
    const problems = await layerProblems(
      "src/shared/layer-probe.ts",
      lines(
        'import { Transform } from "node:stream";',
        'import { WebSocket } from "ws";',
        'import { formatAddress } from "../helper/packet/address.js";',
        'import { IDLE_SESSION } from "./api.js";',
        'import ipaddr from "ipaddr.js";',
        'import dnsPacket from "dns-packet";',
        "void [Transform, WebSocket, formatAddress, IDLE_SESSION, ipaddr, dnsPacket];",
      ),
    );
    assertReportedLines(problems, [1, 2, 3]);
    assert.match(problems[1] ?? "", /pure libraries \(ipaddr\.js, dns-packet\), not ws/);
  });

  test("what a layer may import is not reported", async () => {
    assert.deepEqual(
      await layerProblems(
        "src/renderer/state/layer-probe.ts",
        lines(
          'import { create } from "zustand";',
          'import { IDLE_SESSION } from "../../shared/api.js";',
          "void [create, IDLE_SESSION];",
        ),
      ),
      [],
    );
    assert.deepEqual(
      await layerProblems(
        "src/main/broker/layer-probe.ts",
        lines(
          'import { spawn } from "node:child_process";',
          'import { runCommand } from "../../helper/run-command.js";',
          "void [spawn, runCommand];",
        ),
      ),
      [],
    );
    // Tests run under Node and may drive a real part of another layer.
    assert.deepEqual(
      await layerProblems(
        "src/renderer/layer-probe.test.ts",
        lines('import { test } from "node:test";', "void test;"),
      ),
      [],
    );
  });
});
