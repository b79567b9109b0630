/**
 * "Can the remote reach …?": the checks a user needs when the session is connected but nothing
 * works, from both ends. On this computer: does the name resolve, is the address in an advertised
 * prefix, which interface would carry it, does the NAT's egress policy allow it, does a real
 * connect succeed. On the remote, asked of its agent over the link: what its resolver answers,
 * whether it routes the address into the tunnel (and why not), a real connect through it. The
 * verdict (verdict.ts) says what to change.
 */
import { lookup } from "node:dns/promises";
import { connect as tcpConnect } from "node:net";
import ipaddr from "ipaddr.js";
import type { DiagnoseRequest, DiagnoseResult, RemoteSide } from "../../shared/api.js";
import type { RemoteDiagnosis } from "../../shared/diagnose-frames.js";
import type { RemoteDnsStatus } from "../../shared/remote-dns-status.js";
import { errorText, roundMs, timedConnect } from "../../shared/timed-connect.js";
import { EgressPolicy } from "../../helper/engines/nat/egress-policy.js";
import type { RemoteCheckQuestion } from "../../helper/engines/link/remote-checks.js";
import { runCommand } from "../../helper/engines/run-command.js";
import { coveringPrefix, decideVerdict, REASONS } from "./verdict.js";

export { coveringPrefix, suggestedPrefix } from "./verdict.js";

export const CONNECT_TIMEOUT_MS = 5_000;
const LOOKUP_TIMEOUT_MS = 5_000;

export interface DiagnoseContext {
  /** The session's advertised prefixes, or what a connect would advertise now. */
  advertised: readonly string[];
  /** Settings → Excluded prefixes, to say why an address is not advertised. */
  excludes: readonly string[];
  allowLocal: boolean;
  /** Whether a session is connected: the summary then speaks of now, not "once connected". */
  connected: boolean;
  /** Asks the connected session's agent for the remote's side; absent without a session. */
  remote?: (question: RemoteCheckQuestion) => Promise<RemoteDiagnosis>;
  /** The session's remote DNS as its agent last reported it (Session.remoteDns); absent: none. */
  remoteDns?: RemoteDnsStatus | null;
}

export interface DiagnoseProbes {
  /** Addresses for a name, through this computer's resolver. */
  lookup(name: string): Promise<string[]>;
  /** The interface and gateway this computer would use, or null where that cannot be asked. */
  route(address: string): Promise<{ interface: string | null; gateway: string | null } | null>;
  /** Resolves when a TCP connect succeeds; rejects with why not. */
  connect(address: string, port: number, timeoutMs: number): Promise<void>;
  /** This computer's own addresses, for the egress policy (default: the OS's). */
  localAddresses?: () => readonly string[];
  now?: () => number;
}

export async function diagnose(
  request: DiagnoseRequest,
  context: DiagnoseContext,
  probes: DiagnoseProbes = systemProbes,
): Promise<DiagnoseResult> {
  const now = probes.now ?? (() => performance.now());
  const host = request.host.trim();
  let dns: DiagnoseResult["dns"] = null;
  let localAddress: string | null = ipaddr.isValid(host) ? ipaddr.process(host).toString() : null;
  if (localAddress === null) {
    const started = now();
    try {
      const addresses = await probes.lookup(host);
      dns = { addresses, error: null, latencyMs: roundMs(now() - started) };
      localAddress = addresses[0] ?? null;
    } catch (error) {
      dns = { addresses: [], error: errorText(error), latencyMs: roundMs(now() - started) };
    }
  }
  // The remote's side runs beside this computer's: each end's connect takes up to its timeout.
  const remoteAnswer = askRemote(context, { host, port: request.port, address: localAddress });
  const localChecks =
    localAddress === null
      ? Promise.resolve([null, null] as const)
      : Promise.all([
          probes.route(localAddress).catch(() => null),
          timedConnect(() => probes.connect(localAddress, request.port, CONNECT_TIMEOUT_MS), now).then(
            ({ code: _code, ...connect }) => connect,
          ),
        ]);
  const [{ remote, remoteError }, [route, connect]] = await Promise.all([remoteAnswer, localChecks]);
  // A name only the remote resolves is still checked, at the address it found.
  const address = localAddress ?? remote?.address ?? null;
  const parsed = address === null ? null : ipaddr.parse(address);
  const policy = new EgressPolicy({
    prefixes: context.advertised,
    allowLocal: context.allowLocal,
    localAddresses: probes.localAddresses,
  });
  const decision = parsed === null ? null : policy.check(Uint8Array.from(parsed.toByteArray()));
  const result: Omit<DiagnoseResult, "summary" | "verdict"> = {
    host,
    dns,
    address,
    prefix: parsed === null ? null : coveringPrefix(parsed, context.advertised),
    route,
    policy:
      decision === null
        ? { allowed: false, reason: "the name does not resolve" }
        : decision.allowed
          ? { allowed: true, reason: null }
          : { allowed: false, reason: REASONS[decision.reason] },
    connect,
    remote,
    remoteError,
    remoteDns: context.remoteDns ?? null,
  };
  const refusal = decision === null || decision.allowed ? null : decision.reason;
  const { verdict, summary } = decideVerdict({
    result,
    refusal,
    port: request.port,
    excludes: context.excludes,
    connected: context.connected,
    connectTimeoutS: CONNECT_TIMEOUT_MS / 1000,
  });
  return { ...result, verdict, summary };
}

async function askRemote(
  context: DiagnoseContext,
  question: RemoteCheckQuestion,
): Promise<{ remote: RemoteSide | null; remoteError: string | null }> {
  if (!context.remote)
    return { remote: null, remoteError: context.connected ? null : "the session is not connected now" };
  try {
    const { id: _id, ...remote } = await context.remote(question);
    return { remote, remoteError: null };
  } catch (error) {
    return { remote: null, remoteError: errorText(error) };
  }
}

/** `ip -j route get` output → interface and gateway. */
export function parseIpRouteGet(json: string): { interface: string | null; gateway: string | null } | null {
  const parsed = JSON.parse(json) as unknown;
  const first = Array.isArray(parsed) ? (parsed[0] as Record<string, unknown> | undefined) : undefined;
  if (!first) return null;
  return {
    interface: typeof first.dev === "string" ? first.dev : null,
    gateway: typeof first.gateway === "string" ? first.gateway : null,
  };
}

export const systemProbes: DiagnoseProbes = {
  async lookup(name) {
    const answer = lookup(name, { all: true, verbatim: true });
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`no answer in ${LOOKUP_TIMEOUT_MS / 1000} s`)),
        LOOKUP_TIMEOUT_MS,
      ).unref(),
    );
    return (await Promise.race([answer, timeout])).map((entry) => entry.address);
  },
  async route(address) {
    if (process.platform !== "linux") return null;
    try {
      return parseIpRouteGet(
        (await runCommand("ip", ["-j", "route", "get", address], { timeoutMs: 5_000 })).stdout,
      );
    } catch {
      return null; // no `ip`, or an answer it could not give: the check says "unknown"
    }
  },
  connect(address, port, timeoutMs) {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: address, port });
      socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", reject);
    });
  },
};
