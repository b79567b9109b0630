// Puts the agent on the remote and says how to start it. One probe (system, Node.js, TUN, sudo, and
// the cache), then a checked upload (upload-verified.ts) into ~/.cache/backhaul/agent/<version>-<hash>/
// only when that directory does not already hold these exact bytes: a second connect uploads
// nothing. The same steps run over SSH and over an `exec:` command's stream (remote-shell.ts).
//
// Not implemented: removing the directories of older versions from the remote's cache.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { NATIVE_FILE_NAME } from "../../../helper/native/load-addon.js";
import { sanitiseRemoteText } from "../../../shared/remote-text.js";
import { DeployFailedError, RemoteNotReadyError } from "./errors.js";
import { buildProbeScript, judgeProbe, parseProbeOutput, type Arch, type ProbeResult } from "./probe.js";
import { runtimeCacheDir, type NodeRuntime } from "./node-runtime.js";
import { chooseEntrance, type EntranceChoice, type EntranceMode } from "./entrance-choice.js";
import type { RemoteShell } from "./remote-shell.js";
import { rootStartCommand, sudoArgv, type SudoMode } from "./root-start.js";
import { quoteShellArg, shellCommand } from "./shell-quote.js";
import { ensureRemoteDirectory, uploadVerified } from "./upload-verified.js";

export const AGENT_FILE_NAME = "backhaul-agent.cjs";
const CACHE_ROOT = ".cache/backhaul/agent";
const PROBE_TIMEOUT_MS = 30_000;
const VERIFY_TIMEOUT_MS = 60_000;

export interface DeployAgentOptions {
  /** The bundle, dist/agent/backhaul-agent.cjs. */
  agentFile: string;
  /** The linux-x64 addon, dist/agent/backhaul_native.node. */
  addonFile: string;
  /** The linux-arm64 addon, when the build made one. */
  addonFileArm64?: string | null;
  /** Names the cache directory, with a hash of the files. */
  version: string;
  /** Node.js on the remote (a path or a command name); default `node` from the PATH. */
  remoteNode?: string | null;
  /** Host name for messages; default the shell's label. */
  host?: string;
  /** Whether sudo's password can be asked for; without it, sudo must work with -n. */
  canAskSudoPassword?: boolean;
  /** Which entrance the agent runs (entrance-choice.ts); default tun (sessions pass auto). */
  entrance?: EntranceMode;
  /** Node.js runtimes to bring to a remote without Node.js 18+ (node-runtime.ts). */
  runtimes?: readonly NodeRuntime[];
  log?: (line: string) => void;
}

export interface DeployedAgent {
  /**
   * Starts the agent: `/usr/bin/node ~/.cache/backhaul/agent/0.1.0-…/backhaul-agent.cjs` as root,
   * else `sudo -n sh -c '<verify a root-owned copy, run it>' …` (root-start.ts), or `sudo -S -p …` when
   * sudo wants the password on stdin. Its arguments follow.
   */
  command: string;
  /** The entrance `command` runs, and why it was chosen. */
  entrance: EntranceChoice;
  /**
   * Starts the agent with the proxy entrance, as the SSH user: what `auto` falls back to when
   * sudo then refuses (no password given, or the user is not in sudoers).
   */
  proxyCommand: string;
  /** "none": run as is (root, or the proxy entrance); otherwise through the root start script, whose first stderr line says it runs. */
  sudo: "none" | SudoMode;
  /** The remote user, for the password question. */
  user: string;
  /** False when the remote already had these exact files. */
  uploaded: boolean;
  /** Absolute path of the directory holding the agent and its addon. */
  remoteDir: string;
  arch: Arch;
  node: { path: string; version: string };
  /** The runtime we brought, when the remote's own Node.js would not do. */
  runtime: { version: string; uploaded: boolean } | null;
}

interface LocalFile {
  name: string;
  path: string;
  bytes: Buffer;
  sha256: string;
  mode: number;
}

interface Candidate {
  arch: Arch;
  /** Relative to $HOME. */
  dir: string;
  files: LocalFile[];
}

async function localFile(name: string, path: string, mode: number): Promise<LocalFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new DeployFailedError(`cannot read ${path}: run \`npm run build\` first`, { cause: error });
  }
  return { name, path, bytes, sha256: createHash("sha256").update(bytes).digest("hex"), mode };
}

/** One cache directory per architecture, named for the version and the hash of both files. */
async function candidates(options: DeployAgentOptions): Promise<Candidate[]> {
  const agent = await localFile(AGENT_FILE_NAME, options.agentFile, 0o600);
  const addons: [Arch, string | null | undefined][] = [
    ["x64", options.addonFile],
    ["arm64", options.addonFileArm64],
  ];
  const version = options.version.replace(/[^A-Za-z0-9._+-]/g, "_");
  const result: Candidate[] = [];
  for (const [arch, path] of addons) {
    if (!path) continue;
    const addon = await localFile(NATIVE_FILE_NAME, path, 0o700);
    const hash = createHash("sha256").update(agent.bytes).update(addon.bytes).digest("hex").slice(0, 16);
    result.push({ arch, dir: `${CACHE_ROOT}/${version}-${hash}`, files: [agent, addon] });
  }
  return result;
}

function isCached(probe: ProbeResult, candidate: Candidate, file: LocalFile): boolean {
  const remote = probe.cached.get(`${candidate.dir}/${file.name}`);
  return remote !== undefined && remote.size === file.bytes.length && remote.sha256 === file.sha256;
}

export async function deployAgent(shell: RemoteShell, options: DeployAgentOptions): Promise<DeployedAgent> {
  const log = options.log ?? (() => undefined);
  const host = options.host ?? shell.label;
  const remoteNode = options.remoteNode ?? null;
  const choices = await candidates(options);
  const runtimes = options.runtimes ?? [];

  const script = buildProbeScript({
    remoteNode,
    cacheDirs: choices.map((choice) => choice.dir),
    files: [AGENT_FILE_NAME, NATIVE_FILE_NAME],
    extraFiles: runtimes.map((runtime) => `${runtimeCacheDir(runtime)}/node`),
  });
  const probeRun = await shell.run(script, PROBE_TIMEOUT_MS);
  const probe = parseProbeOutput(probeRun.stdout, probeRun.stderr);
  const canAskSudoPassword = options.canAskSudoPassword ?? false;
  const entrance = chooseEntrance(probe, options.entrance ?? "tun", canAskSudoPassword);
  const { problems, verdict } = judgeProbe(probe, {
    remoteNode,
    addonArchs: choices.map((choice) => choice.arch),
    canAskSudoPassword,
    runtimeArchs: runtimes.map((runtime) => runtime.arch),
    entrance: entrance.kind,
  });
  const chosen = choices.find((choice) => choice.arch === verdict?.arch);
  if (!verdict || !chosen) throw new RemoteNotReadyError(host, problems);
  const home = probe.home.replace(/\/+$/, "");
  const runtime = verdict.nodePath === null ? runtimes.find((r) => r.arch === verdict.arch) : undefined;
  let node: DeployedAgent["node"];
  let runtimeUploaded = false;
  if (runtime) {
    const dir = runtimeCacheDir(runtime);
    node = { path: `${home}/${dir}/node`, version: `v${runtime.version}` };
    // Only a checked unpack is named `node` (uploadRuntime), and root checks its hash again.
    if (probe.sizes.get(`${dir}/node`) === runtime.bytes) {
      log(`Node.js ${runtime.version} for ${runtime.arch} is already on ${host} (cached)`);
    } else {
      await uploadRuntime(shell, `${home}/${dir}`, runtime, log, host);
      runtimeUploaded = true;
    }
  } else if (probe.node) {
    node = probe.node;
  } else {
    throw new RemoteNotReadyError(host, problems);
  }

  const remoteDir = `${home}/${chosen.dir}`;
  const stale = chosen.files.filter((file) => !isCached(probe, chosen, file));
  if (stale.length > 0) {
    log(`uploading the agent to ${host}:${remoteDir} (${stale.map((file) => file.name).join(", ")})`);
    await ensureRemoteDirectory(shell, remoteDir);
    for (const file of stale)
      await uploadVerified(shell, {
        localPath: file.path,
        remotePath: `${remoteDir}/${file.name}`,
        mode: file.mode,
        sha256: file.sha256,
        node: node.path,
      });
  } else {
    log(`the agent ${options.version} is already on ${host}`);
  }

  const [agent, addon] = chosen.files;
  if (!agent || !addon) throw new DeployFailedError("the agent or its addon is missing from the build");
  // Root (no sudo) runs its own cache, which only root can write; sudo runs a verified copy; the
  // proxy entrance runs the user's own cache as the user.
  const proxyArgv = [node.path, `${remoteDir}/${AGENT_FILE_NAME}`, "--entrance", "proxy"];
  const argv =
    entrance.kind === "proxy"
      ? proxyArgv
      : verdict.sudo !== "none"
        ? [
            ...sudoArgv(verdict.sudo),
            ...rootStartCommand({
              nodePath: node.path,
              ...(runtime && { nodeSha256: runtime.sha256 }),
              sourceDir: remoteDir,
              agentFile: { name: agent.name, sha256: agent.sha256 },
              addonFile: { name: addon.name, sha256: addon.sha256 },
            }),
          ]
        : [node.path, `${remoteDir}/${AGENT_FILE_NAME}`];
  return {
    command: shellCommand(argv),
    entrance,
    proxyCommand: shellCommand(proxyArgv),
    sudo: verdict.sudo,
    user: probe.user,
    uploaded: stale.length > 0,
    remoteDir,
    arch: verdict.arch,
    node,
    runtime: runtime ? { version: runtime.version, uploaded: runtimeUploaded } : null,
  };
}

const MB = 1_000_000;

/**
 * Uploads the gzip file, unpacks it beside itself under a temporary name, checks the binary's
 * SHA-256, and only then names it `node`: a half-done upload is never taken for the runtime.
 */
async function uploadRuntime(
  shell: RemoteShell,
  dir: string,
  runtime: NodeRuntime,
  log: (line: string) => void,
  host: string,
): Promise<void> {
  const what = `Node.js ${runtime.version} for ${runtime.arch}`;
  log(
    `uploading ${what}, ${Math.round(runtime.gzipBytes / MB)} MB, to ${host} (once: later connects reuse it)`,
  );
  let reported = 0;
  const q = quoteShellArg(dir);
  try {
    await ensureRemoteDirectory(shell, dir);
    await shell.put(runtime.path, `${dir}/node.gz`, 0o600, (sent, total) => {
      const percent = Math.floor((sent / total) * 4) * 25;
      if (percent > reported && percent < 100) {
        reported = percent;
        log(`uploading ${what}: ${percent} % of ${Math.round(total / MB)} MB`);
      }
    });
  } catch (error) {
    await shell.run(`rm -f ${q}/node.gz`, VERIFY_TIMEOUT_MS).catch(() => undefined);
    throw new DeployFailedError(`uploading ${what} to ${dir} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const unpack =
    `cd ${q} && gzip -dc node.gz > .node.tmp && chmod 700 .node.tmp && ` +
    `[ "$(sha256sum < .node.tmp | cut -d ' ' -f 1)" = ${runtime.sha256} ] && mv -f .node.tmp node && rm -f node.gz`;
  const result = await shell.run(unpack, VERIFY_TIMEOUT_MS);
  if (result.code !== 0) {
    await shell.run(`rm -f ${q}/.node.tmp ${q}/node.gz`, VERIFY_TIMEOUT_MS).catch(() => undefined);
    throw new DeployFailedError(
      `unpacking ${what} on ${host} failed${result.stderr ? `: ${sanitiseRemoteText(result.stderr).trim()}` : " (its SHA-256 differs from the build's)"}`,
    );
  }
  log(`${what} is unpacked and checked on ${host}`);
}
