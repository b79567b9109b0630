// One round trip tells us everything about the remote: system, user, Node.js, TUN device, sudo,
// and what an earlier deploy left in the cache. The script prints `key=value` lines; parsing and
// judging them are pure functions, tested on recorded output.
import { sanitiseRemoteText } from "../../../shared/remote-text.js";
import type { EntranceKind } from "./entrance-choice.js";
import { DeployFailedError, type DeployProblem } from "./errors.js";
import { ROOT_AGENT_DIR, type SudoMode } from "./root-start.js";
import { quoteShellArg } from "./shell-quote.js";

export const MIN_NODE_MAJOR = 18;

export type Arch = "x64" | "arm64";

export interface ProbeRequest {
  /** A path or a command name; default "node" from the PATH. */
  remoteNode: string | null;
  /** Cache directories relative to $HOME, and the file names to look for in each. */
  cacheDirs: readonly string[];
  files: readonly string[];
  /** More files to report (their size), relative to $HOME: the Node.js runtimes we bring. */
  extraFiles?: readonly string[];
}

export function buildProbeScript(request: ProbeRequest): string {
  const q = quoteShellArg;
  const lines = [
    `say() { printf '%s=%s\\n' "$1" "$2"; }`,
    `say uname "$(uname -sm 2>/dev/null)"`,
    `say uid "$(id -u 2>/dev/null)"`,
    `say user "$(id -un 2>/dev/null)"`,
    `say home "$HOME"`,
    `node_path=$(command -v ${q(request.remoteNode ?? "node")} 2>/dev/null)`,
    `if [ -n "$node_path" ]; then say node "$node_path"; say node_version "$("$node_path" --version 2>&1 | head -n 1)"; fi`,
    `if [ -c /dev/net/tun ]; then say tun yes; else say tun no; fi`,
    // The agent starts as `sudo -n sh -c '<verify and run>'` (root-start.ts): probe sudo -n with sh.
    `if [ "$(id -u)" != 0 ]; then`,
    `  if ! command -v sudo >/dev/null 2>&1; then say sudo missing`,
    `  elif sudo_out=$(sudo -n sh -c : 2>&1 </dev/null); then say sudo ok`,
    `  else say sudo password; say sudo_error "$(printf '%s\\n' "$sudo_out" | head -n 1)"; fi`,
    `fi`,
    `command -v sha256sum >/dev/null 2>&1 && say sha256sum yes`,
    `command -v gzip >/dev/null 2>&1 && say gzip yes`,
    `report() { if [ -f "$HOME/$1" ]; then say "cached:$1" "$(wc -c < "$HOME/$1" | tr -d ' ') $(sha256sum < "$HOME/$1" 2>/dev/null | cut -d ' ' -f 1)"; fi; }`,
    `for dir in ${request.cacheDirs.map(q).join(" ")}; do for f in ${request.files.map(q).join(" ")}; do report "$dir/$f"; done; done`,
    // Sizes only: hashing a 100 MB runtime on every connect costs a quarter second, and root
    // checks its hash anyway before running it (root-start.ts).
    ...(request.extraFiles ?? []).map(
      (path) =>
        `if [ -f "$HOME/"${q(path)} ]; then say ${q(`size:${path}`)} "$(wc -c < "$HOME/"${q(path)} | tr -d ' ')"; fi`,
    ),
    `say done yes`,
  ];
  return lines.join("\n");
}

export interface CachedFile {
  size: number;
  sha256: string;
}

export interface ProbeResult {
  /** `uname -s`, e.g. "Linux". */
  kernel: string;
  /** `uname -m`, e.g. "x86_64". */
  machine: string;
  uid: number;
  user: string;
  home: string;
  node: { path: string; version: string } | null;
  tun: boolean;
  /** "root": not needed; "ok": sudo -n works; "password": sudo wants one; "missing": no sudo. */
  sudo: "root" | "ok" | "password" | "missing";
  sudoError: string;
  sha256sum: boolean;
  gzip: boolean;
  /** By "<cache dir>/<file>". */
  cached: Map<string, CachedFile>;
  /** The extra files' sizes, by path relative to $HOME. */
  sizes: Map<string, number>;
}

/** Parses the probe's output; throws DeployFailedError when it did not run to the end. */
export function parseProbeOutput(stdout: string, stderr = ""): ProbeResult {
  const values = new Map<string, string>();
  const cached = new Map<string, CachedFile>();
  const sizes = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const equals = line.indexOf("=");
    if (equals <= 0) continue;
    const key = line.slice(0, equals);
    // The values are the remote's words (user, home, versions, sudo's complaint): shown to the user.
    const value = sanitiseRemoteText(line.slice(equals + 1)).trim();
    if (key.startsWith("cached:")) {
      const [sizeText, sha256] = value.split(" ");
      const size = Number(sizeText);
      if (Number.isInteger(size) && sha256 && /^[0-9a-f]{64}$/.test(sha256))
        cached.set(key.slice("cached:".length), { size, sha256 });
    } else if (key.startsWith("size:")) {
      const size = Number(value);
      if (Number.isInteger(size)) sizes.set(key.slice("size:".length), size);
    } else {
      values.set(key, value);
    }
  }
  const uid = Number(values.get("uid"));
  if (values.get("done") !== "yes" || !Number.isInteger(uid) || values.get("uid") === "") {
    const said = sanitiseRemoteText([stderr.trim(), stdout.trim()].filter(Boolean).join(" / "));
    throw new DeployFailedError(
      `probing the remote failed: its shell did not run our script${said ? `; it said: ${said}` : ""}`,
    );
  }
  const [kernel = "", machine = ""] = (values.get("uname") ?? "").split(/\s+/);
  const nodePath = values.get("node");
  const sudo = values.get("sudo");
  return {
    kernel,
    machine,
    uid,
    user: values.get("user") || `uid ${uid}`,
    home: values.get("home") ?? "",
    node: nodePath ? { path: nodePath, version: values.get("node_version") ?? "" } : null,
    tun: values.get("tun") === "yes",
    sudo: uid === 0 ? "root" : sudo === "ok" || sudo === "missing" ? sudo : "password",
    sudoError: values.get("sudo_error") ?? "",
    sha256sum: values.get("sha256sum") === "yes",
    gzip: values.get("gzip") === "yes",
    cached,
    sizes,
  };
}

export function archOf(machine: string): Arch | undefined {
  if (machine === "x86_64" || machine === "amd64") return "x64";
  if (machine === "aarch64" || machine === "arm64") return "arm64";
  return undefined;
}

export function nodeMajor(version: string): number | undefined {
  const match = /^v(\d+)\./.exec(version.trim());
  return match ? Number(match[1]) : undefined;
}

export interface ProbeVerdict {
  arch: Arch;
  /** Null: the remote has no usable Node.js, and we bring ours. */
  nodePath: string | null;
  /** "none": the user is root. */
  sudo: "none" | SudoMode;
}

/** Every reason the remote cannot run the agent, or what to run it with. */
export function judgeProbe(
  probe: ProbeResult,
  options: {
    remoteNode: string | null;
    addonArchs: readonly Arch[];
    /** Whether the user can be asked for sudo's password (a terminal, the window, stdin). */
    canAskSudoPassword?: boolean;
    /** The architectures we have a Node.js runtime for, to bring when the remote's will not do. */
    runtimeArchs?: readonly Arch[];
    /** The proxy entrance needs neither root nor /dev/net/tun; default the TUN entrance. */
    entrance?: EntranceKind;
  },
): { problems: DeployProblem[]; verdict?: ProbeVerdict } {
  if (probe.kernel !== "Linux") {
    const system = probe.kernel || "an unknown system";
    return {
      problems: [
        { code: "NOT_LINUX", message: `Backhaul's agent needs a Linux remote; this one runs ${system}.` },
      ],
    };
  }
  const problems: DeployProblem[] = [];
  const arch = archOf(probe.machine);
  if (!arch) {
    problems.push({
      code: "UNSUPPORTED_ARCH",
      message: `the remote's processor is ${probe.machine || "unknown"}; the agent runs on x86_64 and aarch64 only.`,
    });
  } else if (!options.addonArchs.includes(arch)) {
    problems.push({
      code: "NO_ADDON_FOR_ARCH",
      message:
        `the remote is ${probe.machine} (linux-${arch}), and this build of Backhaul has no native addon for it: ` +
        `build one with \`node scripts/build-native.mjs --arch=${arch} --out=.cache/native/linux-${arch}/backhaul_native.node\` ` +
        "(then `npm run build`, which puts it beside the agent).",
    });
  }
  if (!probe.home.startsWith("/"))
    problems.push({
      code: "NO_HOME",
      message: `${probe.user} has no usable home directory ($HOME is "${probe.home}").`,
    });

  const fix = "install Node.js 18+ on the remote, or pass --remote-node PATH";
  const major = probe.node ? nodeMajor(probe.node.version) : undefined;
  const usable = major !== undefined && major >= MIN_NODE_MAJOR;
  // Ours is brought only in place of the PATH's node: a --remote-node the user gave is what runs.
  const bring =
    !usable && !options.remoteNode && arch !== undefined && (options.runtimeArchs ?? []).includes(arch);
  if (bring) {
    if (!probe.gzip || !probe.sha256sum)
      problems.push({
        code: "NODE_MISSING",
        message: `the remote has no usable Node.js, and Backhaul's own needs gzip and sha256sum there to unpack and check it: ${fix}.`,
      });
  } else if (!probe.node) {
    const where = options.remoteNode
      ? `Node.js was not found at ${options.remoteNode} on the remote`
      : "Node.js is not installed on the remote (no `node` on the PATH of a non-interactive SSH session)";
    problems.push({ code: "NODE_MISSING", message: `${where}: ${fix}.` });
  } else {
    if (!usable) {
      const version = probe.node.version || "of an unknown version";
      problems.push({
        code: "NODE_TOO_OLD",
        message: `the remote's Node.js (${probe.node.path}) is ${version}, and the agent needs ${MIN_NODE_MAJOR} or newer: ${fix}.`,
      });
    }
  }
  const proxy = options.entrance === "proxy";
  if (!probe.tun && !proxy) {
    problems.push({
      code: "NO_TUN",
      message:
        "the remote has no TUN device (/dev/net/tun): in a container, run it with --device /dev/net/tun " +
        "and --cap-add NET_ADMIN; on a VM, load the module with `sudo modprobe tun`.",
    });
  }
  // The proxy entrance's agent runs as the SSH user: sudo does not matter to it.
  if (!proxy && probe.sudo === "missing") {
    problems.push({
      code: "SUDO_MISSING",
      message: `${probe.user} is not root and sudo is not installed: the agent needs root for its TUN device and routes. Install sudo, or log in as root.`,
    });
  } else if (!proxy && probe.sudo === "password" && !options.canAskSudoPassword) {
    // No sudoers line is suggested: one for node (or sh) alone would give the user all of root.
    problems.push({
      code: "SUDO_NEEDS_PASSWORD",
      message:
        `sudo asks ${probe.user} for a password${probe.sudoError ? ` ("${probe.sudoError}")` : ""}, ` +
        "and there is nobody to ask: connect from a terminal, or pass --sudo-password-stdin, so that sudo can copy " +
        `the agent into ${ROOT_AGENT_DIR}, check its SHA-256 and run it as root; or connect as root.`,
    });
  }
  if (problems.length > 0 || !arch || (!probe.node && !bring)) return { problems };
  const sudo = proxy || probe.sudo === "root" ? "none" : probe.sudo === "ok" ? "no-password" : "password";
  return { problems, verdict: { arch, nodePath: bring ? null : (probe.node?.path ?? null), sudo } };
}
