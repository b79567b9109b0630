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

const RENDERER_NO_NODE =
  "src/renderer runs in every process, the sandboxed renderer included: no Node module";
const RENDERER_API_ONLY = "the renderer reaches main only through the API (shared/api.ts), never";
const ENGINES = "the engines and the processes in src/helper import nothing from";
const ENGINES_ALIKE =
  "the engines run in the local helper, the agent and main alike: they import nothing from";

/** Each case: a file at a virtual path in one layer, its lines, and every complaint, by line. */
const CASES: { rule: string; path: string; code: string[]; reported: string[] }[] = [
  {
    rule: "the renderer imports no Node module, nothing from main or the helper",
    path: "src/renderer/components/LayerProbe.tsx",
    code: [
      'import { readFile } from "node:fs/promises";',
      'import { join } from "path";',
      'import { AppController } from "../../main/app/controller.js";',
      'export { parseIp } from "../../helper/engines/packet/ip.js";',
      'const cli = import("../../main/cli.js");',
      "void [readFile, join, AppController, cli];",
    ],
    reported: [
      `1: ${RENDERER_NO_NODE} (node:fs/promises)`,
      `2: ${RENDERER_NO_NODE} (path)`,
      `3: ${RENDERER_API_ONLY} src/main`,
      `4: ${RENDERER_API_ONLY} src/helper`,
      `5: ${RENDERER_API_ONLY} src/main`,
    ],
  },
  {
    rule: "the engines import nothing from main or the renderer, at any depth",
    path: "src/helper/engines/nat/tcp/layer-probe.ts",
    code: [
      'import type { Session } from "../../../../main/broker/session.js";',
      'export * from "../../../../renderer/state/steps.js";',
      'import { runCommand } from "../../run-command.js";',
      'import { parsePrefix } from "../../../../shared/ip-prefix.js";',
      'import { connect } from "node:net";',
      "export type Probe = Session;",
      "void [runCommand, parsePrefix, connect];",
    ],
    reported: [`1: ${ENGINES} src/main`, `2: ${ENGINES} src/renderer`],
  },
  {
    rule: "the engines import nothing from the local helper, the agent or a file outside every role",
    path: "src/helper/engines/nat/layer-probe.ts",
    code: [
      'import { LocalServer } from "../../local/local-server.js";',
      'export { Journal } from "../../agent/journal.js";',
      'const loose = import("../../layer-probe-loose.js");',
      'import { loadAddon } from "../../native/load-addon.js";',
      'import { Link } from "../link/link.js";',
      "void [LocalServer, loose, loadAddon, Link];",
    ],
    reported: [
      `1: ${ENGINES_ALIKE} src/helper/local`,
      `2: ${ENGINES_ALIKE} src/helper/agent`,
      `3: ${ENGINES_ALIKE} src/helper`,
    ],
  },
  {
    rule: "the local helper imports the engines, never the agent",
    path: "src/helper/local/layer-probe.ts",
    code: [
      'import { Journal } from "../agent/journal.js";',
      'import { NatEngine } from "../engines/nat/engine.js";',
      'import { IDLE_SESSION } from "../../shared/api.js";',
      "void [Journal, NatEngine, IDLE_SESSION];",
    ],
    reported: [
      "1: src/helper/local imports nothing from src/helper/agent: what both processes run belongs in src/helper/engines",
    ],
  },
  {
    rule: "the agent imports the engines and the addon, never the local helper",
    path: "src/helper/agent/layer-probe.ts",
    code: [
      'import { LocalServer } from "../local/local-server.js";',
      'import { Link } from "../engines/link/link.js";',
      'import { loadAddon } from "../native/load-addon.js";',
      'import { Journal } from "../system/journal.js";',
      "void [LocalServer, Link, loadAddon, Journal];",
    ],
    reported: [
      "1: src/helper/agent imports nothing from src/helper/local: what both processes run belongs in src/helper/engines",
    ],
  },
  {
    rule: "the system changes import the engines, never the agent or the local helper",
    path: "src/helper/system/dns/layer-probe.ts",
    code: [
      'import { LocalServer } from "../../local/local-server.js";',
      'import { undoOnShutdown } from "../../agent/shutdown.js";',
      'import { runCommand } from "../../engines/run-command.js";',
      "void [LocalServer, undoOnShutdown, runCommand];",
    ],
    reported: [
      "1: src/helper/system runs in the agent and the local helper alike: it imports nothing from src/helper/local",
      "2: src/helper/system runs in the agent and the local helper alike: it imports nothing from src/helper/agent",
    ],
  },
  {
    rule: "src/shared imports only src/shared and the pure libraries",
    path: "src/shared/layer-probe.ts",
    code: [
      'import { Transform } from "node:stream";',
      'import { WebSocket } from "ws";',
      'import { formatAddress } from "../helper/engines/packet/address.js";',
      'import { IDLE_SESSION } from "./api.js";',
      'import ipaddr from "ipaddr.js";',
      'import dnsPacket from "dns-packet";',
      "void [Transform, WebSocket, formatAddress, IDLE_SESSION, ipaddr, dnsPacket];",
    ],
    reported: [
      "1: src/shared runs in every process, the sandboxed renderer included: no Node module (node:stream)",
      "2: src/shared imports only src/shared and the pure libraries (ipaddr.js, dns-packet), not ws",
      "3: src/shared imports only src/shared, not src/helper/engines",
    ],
  },
  {
    rule: "the renderer may import its libraries and src/shared",
    path: "src/renderer/state/layer-probe.ts",
    code: [
      'import { create } from "zustand";',
      'import { IDLE_SESSION } from "../../shared/api.js";',
      "void [create, IDLE_SESSION];",
    ],
    reported: [],
  },
  {
    rule: "main may import Node and the helper's modules",
    path: "src/main/broker/layer-probe.ts",
    code: [
      'import { spawn } from "node:child_process";',
      'import { runCommand } from "../../helper/engines/run-command.js";',
      'import { LocalServer } from "../../helper/local/local-server.js";',
      "void [spawn, runCommand, LocalServer];",
    ],
    reported: [],
  },
  {
    // Tests run under Node and may drive a real part of another layer.
    rule: "a test in any layer may import Node modules",
    path: "src/renderer/layer-probe.test.ts",
    code: ['import { test } from "node:test";', "void test;"],
    reported: [],
  },
];

describe("the layer rule", () => {
  for (const { rule, path, code, reported } of CASES) {
    test(rule, async () => {
      assert.deepEqual(await layerProblems(path, code.join("\n") + "\n"), reported);
    });
  }
});
