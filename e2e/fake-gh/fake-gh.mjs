// A FAKE of GitHub's CLI (`gh`) for tests, run through the `gh` file beside it. It answers the
// commands Backhaul runs the way gh does (formats read in cli/cli: pkg/cmd/codespace/list.go,
// ssh.go's printOpenSSHConfig, view.go, internal/codespaces/api ListCodespaceFields, and the exit
// codes and hints of internal/ghcmd), from a JSON file of codespaces instead of GitHub's API.
//
// Environment:
//   FAKE_GH_CODESPACES  the codespaces, as `gh codespace list --json` exports every field, plus
//                       `sshUser` (what the codespace's sshd reports). Rewritten when a codespace
//                       changes state, so tests pass a copy.
//   FAKE_GH_ARGV_LOG    file that gets one JSON line per run: the argv gh was given.
//   FAKE_GH_FAIL        "not-logged-in" | "missing-scope": answer every command as gh does then.
//                       "old-gh": know only the JSON fields of gh before displayName/machineName.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const args = process.argv.slice(2);
const env = process.env;

if (env.FAKE_GH_ARGV_LOG) appendFileSync(env.FAKE_GH_ARGV_LOG, `${JSON.stringify(args)}\n`);

// api.ListCodespaceFields and api.ViewCodespaceFields; before gh 2.14 list knew fewer.
const LIST_FIELDS = [
  "displayName",
  "name",
  "owner",
  "repository",
  "state",
  "gitStatus",
  "createdAt",
  "lastUsedAt",
  "machineName",
  "vscsTarget",
];
const OLD_LIST_FIELDS = ["name", "owner", "repository", "state", "gitStatus", "createdAt", "lastUsedAt"];
const VIEW_FIELDS = [...LIST_FIELDS, "billableOwner", "location", "devcontainerPath", "machineDisplayName"];

function fail(stderr, code = 1, stdout = "") {
  process.stdout.write(stdout);
  process.stderr.write(stderr.endsWith("\n") ? stderr : `${stderr}\n`);
  process.exit(code);
}

function load() {
  if (!env.FAKE_GH_CODESPACES) fail("fake gh: set FAKE_GH_CODESPACES to a codespaces JSON file");
  return JSON.parse(readFileSync(env.FAKE_GH_CODESPACES, "utf8"));
}

function save(codespaces) {
  writeFileSync(env.FAKE_GH_CODESPACES, `${JSON.stringify(codespaces, null, 2)}\n`);
}

function flag(name, short) {
  const index = args.findIndex((arg) => arg === name || (short !== undefined && arg === short));
  return index >= 0 ? args[index + 1] : undefined;
}

/** gh's exporter: only the requested fields, each checked against the command's list. */
function exportFields(allowed) {
  const requested = (flag("--json") ?? "").split(",").filter(Boolean);
  for (const field of requested) {
    if (!allowed.includes(field)) {
      fail(`Unknown JSON field: "${field}"\nAvailable fields:\n  ${[...allowed].sort().join("\n  ")}`);
    }
  }
  return (codespace) => Object.fromEntries(requested.map((field) => [field, codespace[field] ?? ""]));
}

function notFound(name, path) {
  fail(
    `${path}: HTTP 404: Not Found (https://api.github.com/user/codespaces/${name}?internal=true&refresh=true)`,
  );
}

function find(codespaces, name, context) {
  const codespace = codespaces.find((candidate) => candidate.name === name);
  if (codespace === undefined) notFound(name, context);
  return codespace;
}

if (env.FAKE_GH_FAIL === "not-logged-in") {
  // internal/ghcmd: no token anywhere -> this text, exit 4 (authentication required).
  fail(
    "To get started with GitHub CLI, please run:  gh auth login\n" +
      "Alternatively, populate the GH_TOKEN environment variable with a GitHub API authentication token.",
    4,
  );
}
if (env.FAKE_GH_FAIL === "missing-scope") {
  // The second line is api.HTTPError.ScopesSuggestion() verbatim; the first stands for whatever
  // refusal GitHub sends a token without the scope.
  fail(
    "error getting codespaces: HTTP 403: Must have admin rights to Repository. " +
      "(https://api.github.com/user/codespaces?per_page=100)\n" +
      'This API operation needs the "codespace" scope. To request it, run:  gh auth refresh -h github.com -s codespace',
  );
}

const [group, command] = args;
const isCodespace = group === "codespace" || group === "cs";

if (isCodespace && (command === "list" || command === "ls")) {
  const pick = exportFields(env.FAKE_GH_FAIL === "old-gh" ? OLD_LIST_FIELDS : LIST_FIELDS);
  const limit = Number(flag("--limit", "-L") ?? 30);
  process.stdout.write(`${JSON.stringify(load().slice(0, limit).map(pick))}\n`);
} else if (isCodespace && command === "view") {
  const pick = exportFields(VIEW_FIELDS);
  const codespaces = load();
  const name = flag("--codespace", "-c");
  const codespace = find(codespaces, name, "getting full codespace details");
  process.stdout.write(`${JSON.stringify(pick(codespace))}\n`);
  // A starting codespace is up by the next look.
  if (codespace.state === "Starting") {
    codespace.state = "Available";
    save(codespaces);
  }
} else if (isCodespace && command === "ssh" && args.includes("--config")) {
  const codespaces = load();
  const name = flag("--codespace", "-c");
  const codespace = find(codespaces, name, "error getting codespace info: getting full codespace details");
  // Like gh, connecting to a stopped codespace starts it.
  if (codespace.state !== "Available") {
    codespace.state = "Available";
    save(codespaces);
  }
  // printOpenSSHConfig's template: GHExec is gh's own path, the key path is absolute.
  const key = join(homedir(), ".ssh", "codespaces.auto");
  const ref = codespace.gitStatus.ref.replaceAll("/", "-");
  process.stdout.write(
    `Host cs.${name}.${ref}\n` +
      `\tUser ${codespace.sshUser}\n` +
      `\tProxyCommand ${process.argv[1]} cs ssh -c ${name} --stdio -- -i ${key}\n` +
      `\tUserKnownHostsFile=/dev/null\n` +
      `\tStrictHostKeyChecking no\n` +
      `\tLogLevel quiet\n` +
      `\tControlMaster auto\n` +
      `\tIdentityFile ${key}\n` +
      `\n`,
  );
} else if (group === "api") {
  const method = flag("--method", "-X") ?? "GET";
  const path = args.find((arg, index) => index > 0 && !arg.startsWith("-") && args[index - 1] !== "--method");
  const match = /^\/?user\/codespaces\/([^/]+)\/start$/.exec(path ?? "");
  if (method !== "POST" || match === null) fail(`fake gh: no answer for gh ${args.join(" ")}`);
  const codespaces = load();
  const name = match[1];
  const codespace = codespaces.find((candidate) => candidate.name === name);
  if (codespace === undefined) {
    fail("gh: Not Found (HTTP 404)", 1, '{"message":"Not Found","status":"404"}');
  }
  if (codespace.state !== "Shutdown") {
    fail("gh: Codespace is already running (HTTP 409)", 1, '{"message":"Codespace is already running"}');
  }
  codespace.state = "Starting";
  save(codespaces);
  process.stdout.write(`${JSON.stringify({ name, state: "Starting" })}\n`);
} else {
  fail(`unknown command "${args.join(" ")}" for "gh"`);
}
