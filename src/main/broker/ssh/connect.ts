// connectSsh(): one SSH connection over ssh2, the way OpenSSH's client would make it — known_hosts,
// ssh-agent then identity files, ProxyCommand and ProxyJump — with typed errors that say what to
// do, and a bounded time to fail (the clock stops while the user answers a prompt).
//
// Not implemented: password and keyboard-interactive logins, host certificates (@cert-authority),
// reading ~/.ssh/config (the caller passes what it needs: `gh codespace ssh --config` for
// Codespaces), agent forwarding, CheckHostIP.
import { userInfo } from "node:os";
import ssh2, { type ClientErrorExtensions } from "ssh2";
import { AuthPlan } from "./auth.js";
import { SshConnectionImpl, type SshConnection } from "./connection.js";
import { Deadline } from "./deadline.js";
import { HandshakeFailedError, UnreachableError, type HostKeyInfo } from "./errors.js";
import { preferredHostKeyAlgorithms, verifyHostKey, type HostKeyPolicy } from "./host-key.js";
import { defaultIdentityFiles, type PassphrasePrompt } from "./identities.js";
import {
  DEFAULT_GLOBAL_KNOWN_HOSTS_FILES,
  defaultKnownHostsFiles,
  loadKnownHosts,
} from "./known-hosts-file.js";
import { hostLookupName, knownKeyTypes, type ParsedKnownHosts } from "./known-hosts.js";
import { sanitiseRemoteText } from "../../../shared/remote-text.js";
import { parseProxyJump } from "./proxy-jump.js";
import { openProxyCommand, openTcp, type Transport } from "./transport.js";

/** How long a failed handshake waits for a dying ProxyCommand to say why. */
const TRANSPORT_GRACE_MS = 1_000;

export interface SshConnectOptions {
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  /** Default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa (those that exist). */
  identityFiles?: readonly string[];
  /** Default SSH_AUTH_SOCK; null: no agent. */
  agentSocket?: string | null;
  /** Spawned with the shell (%h %p %r expanded); its stdin/stdout carry SSH. */
  proxyCommand?: string | null;
  /** `[user@]host[:port]`, comma-separated for a chain. */
  proxyJump?: string | null;
  /** Default ~/.ssh/known_hosts; the first one records newly accepted keys. */
  knownHostsFiles?: readonly string[];
  /** Read as well, never written; default /etc/ssh/ssh_known_hosts and ssh_known_hosts2, as ssh. */
  globalKnownHostsFiles?: readonly string[];
  hostKeyAlias?: string | null;
  /** Default "strict". */
  hostKeyPolicy?: HostKeyPolicy;
  /** Asked about an unknown host key; without it an unknown key is refused (unless accept-new). */
  confirmNewHostKey?: (info: HostKeyInfo) => Promise<boolean>;
  /** Asked for an encrypted identity file's passphrase; null declines. */
  passphrase?: PassphrasePrompt;
  /** Time to a logged-in connection, prompts excluded. Default 15 s. */
  readyTimeoutMs?: number;
  /** Time to open the TCP connection, within readyTimeoutMs. Default 10 s. */
  connectTimeoutMs?: number;
  /** SSH keepalive; the connection closes after 3 unanswered. Default 15 s; 0 disables. */
  keepaliveIntervalMs?: number;
  /** Notes worth showing (skipped known_hosts lines, agent trouble). */
  log?: (line: string) => void;
}

interface Resolved extends Required<Omit<SshConnectOptions, "confirmNewHostKey" | "passphrase" | "log">> {
  confirmNewHostKey: SshConnectOptions["confirmNewHostKey"];
  passphrase: SshConnectOptions["passphrase"];
  log: (line: string) => void;
  identityFilesAreDefaults: boolean;
}

function resolveOptions(options: SshConnectOptions): Resolved {
  const defaultAgent =
    process.env.SSH_AUTH_SOCK ?? (process.platform === "win32" ? "\\\\.\\pipe\\openssh-ssh-agent" : null);
  return {
    host: options.host,
    port: options.port ?? 22,
    username: options.username,
    identityFiles: options.identityFiles ?? defaultIdentityFiles(),
    identityFilesAreDefaults: options.identityFiles === undefined,
    agentSocket: options.agentSocket === undefined ? defaultAgent : options.agentSocket,
    proxyCommand: options.proxyCommand ?? null,
    proxyJump: options.proxyJump ?? null,
    knownHostsFiles: options.knownHostsFiles ?? defaultKnownHostsFiles(),
    globalKnownHostsFiles: options.globalKnownHostsFiles ?? DEFAULT_GLOBAL_KNOWN_HOSTS_FILES,
    hostKeyAlias: options.hostKeyAlias ?? null,
    hostKeyPolicy: options.hostKeyPolicy ?? "strict",
    confirmNewHostKey: options.confirmNewHostKey,
    passphrase: options.passphrase,
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? 15_000,
    log: options.log ?? (() => undefined),
  };
}

export async function connectSsh(options: SshConnectOptions): Promise<SshConnection> {
  const o = resolveOptions(options);
  const known: ParsedKnownHosts =
    o.hostKeyPolicy === "off"
      ? { entries: [], notes: [] }
      : await loadKnownHosts([...o.knownHostsFiles, ...o.globalKnownHostsFiles]);
  for (const note of known.notes) o.log(`known_hosts: ${note}`);

  if (o.proxyJump) return connectThroughJumps(o, known);
  const startedAt = Date.now();
  let transport: Transport;
  if (o.proxyCommand) {
    transport = openProxyCommand(o.proxyCommand, { host: o.host, port: o.port, username: o.username });
  } else {
    transport = await openTcp(o.host, o.port, Math.min(o.connectTimeoutMs, o.readyTimeoutMs));
  }
  return handshake(transport, o, known, startedAt);
}

/** Each hop is a full SSH connection; the next one runs over a direct-tcpip channel through it. */
async function connectThroughJumps(o: Resolved, known: ParsedKnownHosts): Promise<SshConnection> {
  const hops = parseProxyJump(o.proxyJump ?? "");
  const opened: SshConnectionImpl[] = [];
  const closeAll = (): void => {
    for (const connection of opened.reverse()) connection.close();
  };
  try {
    let previous: SshConnectionImpl | undefined;
    for (const hop of [...hops, { username: o.username, host: o.host, port: o.port }]) {
      const isTarget = opened.length === hops.length;
      const startedAt = Date.now();
      const hopOptions: Resolved = {
        ...o,
        ...hop,
        username: hop.username ?? process.env.USER ?? userInfo().username,
        proxyJump: null,
        proxyCommand: null,
        hostKeyAlias: isTarget ? o.hostKeyAlias : null,
      };
      const transport: Transport = previous
        ? await channelTransport(previous, hop.host, hop.port)
        : await openTcp(hop.host, hop.port, Math.min(o.connectTimeoutMs, o.readyTimeoutMs));
      previous = await handshake(transport, hopOptions, known, startedAt);
      opened.push(previous);
    }
    const target = opened.pop();
    if (!target) throw new Error("unreachable: the target connection is missing");
    target.once("close", closeAll);
    return target;
  } catch (error) {
    closeAll();
    throw error;
  }
}

async function channelTransport(via: SshConnectionImpl, host: string, port: number): Promise<Transport> {
  try {
    const channel = await via.forwardOut(host, port);
    return {
      stream: channel,
      remoteAddress: host,
      failure: async () => undefined,
      close: () => channel.destroy(),
    };
  } catch (error) {
    const reason = `the jump host ${via.remoteAddress} could not connect to it (${(error as Error).message})`;
    throw new UnreachableError(host, port, reason, { cause: error });
  }
}

/** Logs in over `transport`; readyTimeoutMs counts from `startedAt`, so the TCP connect is included. */
function handshake(
  transport: Transport,
  o: Resolved,
  known: ParsedKnownHosts,
  startedAt: number,
): Promise<SshConnectionImpl> {
  const name = hostLookupName(o.host, o.port, o.hostKeyAlias);
  const client = new ssh2.Client();
  const plan = new AuthPlan({
    username: o.username,
    host: o.host,
    agentSocket: o.agentSocket,
    identityFiles: o.identityFiles,
    identityFilesAreDefaults: o.identityFilesAreDefaults,
    passphrase: o.passphrase && ((file) => deadline.paused(() => o.passphrase!(file))),
  });
  let phase: "handshake" | "auth" = "handshake";
  let hostKeyFailure: Error | undefined;
  let settle: { resolve: (c: SshConnectionImpl) => void; reject: (e: Error) => void } | undefined;
  const result = new Promise<SshConnectionImpl>((resolve, reject) => (settle = { resolve, reject }));

  const fail = (error: Error): void => {
    if (!settle) return;
    settle.reject(error);
    settle = undefined;
    deadline.cancel();
    client.removeAllListeners();
    client.on("error", () => undefined);
    client.end();
    transport.close();
  };
  const seconds = Math.round(o.readyTimeoutMs / 1000);
  const deadline = new Deadline(Math.max(0, o.readyTimeoutMs - (Date.now() - startedAt)), () =>
    fail(
      phase === "handshake"
        ? new UnreachableError(o.host, o.port, `no SSH handshake within ${seconds} s`, {
            hint: "Something answers there but does not complete an SSH handshake: check that it is sshd (and the ProxyCommand, if any).",
          })
        : plan.failure(`no answer within ${seconds} s while logging in`),
    ),
  );

  // Errors and "close" come in bursts: the first one decides, after the transport had its say.
  let failing = false;
  const failAfterTransport = (fallback: () => Error): void => {
    if (!settle || failing) return;
    failing = true;
    void transport
      .failure(TRANSPORT_GRACE_MS)
      .then((transportFailure) => fail(hostKeyFailure ?? transportFailure ?? fallback()));
  };
  const classify = (error: Error & ClientErrorExtensions): Error => {
    if (error.level === "client-authentication") return plan.failure();
    // A server's disconnect message is its own text: sanitised before anyone prints it.
    const said = sanitiseRemoteText(error.message);
    if (phase === "auth" && (error.level === "client-ssh" || error.level === "client-socket"))
      return plan.failure(`the server ended the connection: ${said}`);
    if (error.level === "client-socket")
      return new UnreachableError(o.host, o.port, `the connection broke during the SSH handshake (${said})`, {
        hint: "Check that an SSH server listens there; a firewall or sshd's MaxStartups can also drop connections.",
        cause: error,
      });
    return new HandshakeFailedError(`the SSH handshake with ${o.host} failed: ${said}`, {
      cause: error,
    });
  };

  client.on("handshake", (negotiated) => {
    phase = "auth";
    o.log(`${o.host}: ${negotiated.serverHostKey} host key, ${negotiated.cs.cipher}, ${negotiated.kex}`);
  });
  client.on("error", (error: Error & ClientErrorExtensions) => {
    // ssh2 reports agent trouble as an error, then goes on with the next method.
    if (error.level === "agent") return o.log(`ssh-agent: ${error.message}`);
    failAfterTransport(() => classify(error));
  });
  client.on("close", () =>
    failAfterTransport(() =>
      phase === "auth"
        ? plan.failure("the server closed the connection")
        : new UnreachableError(o.host, o.port, "the connection closed before the SSH handshake completed"),
    ),
  );
  client.on("ready", () => {
    if (!settle) return;
    deadline.cancel();
    settle.resolve(new SshConnectionImpl(client, transport, o.host));
    settle = undefined;
  });

  const preferred = preferredHostKeyAlgorithms(knownKeyTypes(known.entries, name));
  try {
    client.connect({
      sock: transport.stream,
      username: o.username,
      authHandler: plan.handler,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        verifyHostKey(key, {
          name,
          entries: known.entries,
          knownHostsFiles: o.knownHostsFiles,
          policy: o.hostKeyPolicy,
          confirmNewHostKey:
            o.confirmNewHostKey && ((info) => deadline.paused(() => o.confirmNewHostKey!(info))),
        }).then(
          () => verify(true),
          (error: unknown) => {
            hostKeyFailure = error instanceof Error ? error : new Error(String(error));
            verify(false);
          },
        );
      },
      algorithms: {
        // Fastest here (AES-NI); remove-then-prepend moves it to the front and keeps the rest.
        cipher: { remove: "aes128-gcm@openssh.com", prepend: "aes128-gcm@openssh.com", append: [] },
        ...(preferred.length > 0 && { serverHostKey: { remove: preferred, prepend: preferred, append: [] } }),
      },
      // Our Deadline replaces ssh2's timer: it can pause while the user answers a prompt.
      readyTimeout: 0,
      keepaliveInterval: o.keepaliveIntervalMs,
      keepaliveCountMax: 3,
    });
  } catch (error) {
    fail(
      new HandshakeFailedError(`cannot start SSH to ${o.host}: ${(error as Error).message}`, {
        cause: error,
      }),
    );
  }
  return result;
}
