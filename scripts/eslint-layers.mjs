// An ESLint rule that keeps the layers apart (DESIGN.md, "Processes and trust"; STYLE.md, after
// VS Code's layer rule). Each import's target is resolved against the importing file, so it
// holds however many "../" a path takes:
//   - src/renderer runs in a sandboxed page: no Node module, nothing from src/main or src/helper;
//   - src/helper holds one folder per role: engines/ (and native/, the addon) is what the local
//     helper, the agent and main all run, so it imports nothing from local/, agent/, src/main or
//     src/renderer: the engines do not know which process runs them;
//   - src/helper/local (the local helper) and src/helper/agent (the remote agent) import the
//     engines, src/helper/system and src/shared, never each other, src/main or src/renderer;
//   - src/helper/system (this machine's journaled changes: TUN, routes, resolver) is run by both
//     the agent and the local helper: it imports the engines and src/shared, neither process;
//   - src/shared imports only src/shared and the pure libraries in PURE_LIBRARIES: every
//     process, the renderer included, can load it.
// Tests (*.test.ts, *.test.tsx) are not shipped and run under Node: they may import Node modules,
// test tools, and a real part from another layer to drive what they test (main's helper client
// against the helper's server).
import { isBuiltin } from "node:module";
import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Packages src/shared may import: no Node modules, no I/O. */
export const PURE_LIBRARIES = ["ipaddr.js", "dns-packet"];

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const TEST_FILE = /\.test\.tsx?$/;

/** Where src/helper's roles live, by folder; native/ (the addon) sits with the engines. */
const HELPER_ROLES = {
  engines: "engines",
  native: "engines",
  local: "local",
  agent: "agent",
  system: "system",
};

/**
 * "renderer", "main", "shared", "engines", "local", "agent", "system", "helper" (a file directly in
 * src/helper, outside every role), or null outside src/.
 */
function layerOf(path) {
  const parts = relative(ROOT, path).split(sep);
  if (parts[0] !== "src" || parts.length <= 2) return null;
  if (parts[1] !== "helper") return parts[1];
  return (parts.length > 3 && HELPER_ROLES[parts[2]]) || "helper";
}

const HELPER_LAYERS = ["engines", "local", "agent", "system", "helper"];

/** How a layer is named in a message. */
function place(layer) {
  return layer === "engines" || layer === "local" || layer === "agent" || layer === "system"
    ? `src/helper/${layer}`
    : `src/${layer}`;
}

function packageName(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Why `specifier`, imported by `file`, crosses a layer; null when it does not. */
export function layerViolation(file, specifier) {
  const from = layerOf(file);
  if (from === null || TEST_FILE.test(file)) return null;
  const relativeImport = specifier.startsWith(".") || specifier.startsWith("/");
  if (!relativeImport) {
    const node = specifier.startsWith("node:") || isBuiltin(specifier);
    if (node && (from === "renderer" || from === "shared")) {
      return `src/${from} runs in every process, the sandboxed renderer included: no Node module (${specifier})`;
    }
    if (!node && from === "shared" && !PURE_LIBRARIES.includes(packageName(specifier))) {
      return `src/shared imports only src/shared and the pure libraries (${PURE_LIBRARIES.join(", ")}), not ${specifier}`;
    }
    return null;
  }
  const to = layerOf(resolve(dirname(file), specifier));
  if (from === "renderer" && (to === "main" || HELPER_LAYERS.includes(to))) {
    return `the renderer reaches main only through the API (shared/api.ts), never src/${to === "main" ? to : "helper"}`;
  }
  if (HELPER_LAYERS.includes(from) && (to === "main" || to === "renderer")) {
    return `the engines and the processes in src/helper import nothing from src/${to}`;
  }
  if (from === "engines" && (to === "local" || to === "agent" || to === "system" || to === "helper")) {
    return `the engines run in the local helper, the agent and main alike: they import nothing from ${place(to)}`;
  }
  if ((from === "local" || from === "agent") && (to === "local" || to === "agent") && from !== to) {
    return `${place(from)} imports nothing from ${place(to)}: what both processes run belongs in src/helper/engines`;
  }
  if (from === "system" && (to === "local" || to === "agent" || to === "helper")) {
    return `src/helper/system runs in the agent and the local helper alike: it imports nothing from ${place(to)}`;
  }
  if (from === "shared" && to !== "shared") {
    return `src/shared imports only src/shared, not ${to === null ? specifier : place(to)}`;
  }
  return null;
}

const layersRule = {
  meta: {
    type: "problem",
    docs: {
      description:
        "keep src/renderer, src/helper's roles (engines, local, agent) and src/shared free of what their layer must not reach",
    },
    schema: [],
  },
  create(context) {
    const check = (source) => {
      if (!source || source.type !== "Literal" || typeof source.value !== "string") return;
      const problem = layerViolation(context.filename, source.value);
      if (problem !== null) context.report({ node: source, message: problem });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};

export const layersPlugin = { rules: { layers: layersRule } };
