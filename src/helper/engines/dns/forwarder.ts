/**
 * Asks this computer's resolvers, in order, the way a stub resolver does: UDP first (TCP straight
 * away when the remote asked over TCP, UDP after all if the resolver does not take TCP), TCP
 * again when the UDP answer is truncated, the next
 * resolver on a timeout or an error RCODE, a second round for resolvers that never answered, all
 * within one deadline so the remote hears back before its own stub gives up (5 s by default).
 */
import { randomInt } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { DnsCounters } from "./dns-counters.js";
import { buildUpstreamQuery, type QuestionParts } from "./messages.js";
import { rcodeName } from "./names.js";
import {
  describeUpstream,
  UpstreamError,
  type Upstream,
  type UpstreamExchange,
  type UpstreamProtocol,
} from "./upstream.js";
import { Flag, namesEqual, parseMessage, Rcode, WireFormatError, type WireMessage } from "./wire.js";

export interface ForwarderTimeouts {
  /** One UDP exchange. */
  udpAttemptMs: number;
  /** One TCP exchange, connection included. */
  tcpAttemptMs: number;
  /** Everything for one question. */
  totalMs: number;
  /** Passes over the resolvers that did not answer. */
  rounds: number;
}

export const DEFAULT_FORWARDER_TIMEOUTS: ForwarderTimeouts = {
  udpAttemptMs: 1_200,
  tcpAttemptMs: 2_500,
  totalMs: 4_000,
  rounds: 2,
};

export interface ForwardRequest {
  question: QuestionParts;
  dnssecOk: boolean;
  checkingDisabled: boolean;
  viaTcp: boolean;
}

export type ForwardOutcome =
  | {
      kind: "answer";
      /** Owned by the caller. */
      message: Buffer;
      parsed: WireMessage;
      rcode: number;
      resolver: string;
      detail: string | null;
    }
  /** No resolver gave a usable answer; `reason` says what each did. */
  | { kind: "failed"; reason: string };

/** RCODEs after which a stub resolver tries the next server. */
const TRY_NEXT = new Set<number>([Rcode.SERVFAIL, Rcode.REFUSED, Rcode.NOTIMP, Rcode.FORMERR]);

interface Attempt {
  message: Buffer;
  parsed: WireMessage;
}

export class Forwarder {
  constructor(
    private readonly exchange: UpstreamExchange,
    private readonly timeouts: ForwarderTimeouts,
    private readonly counters: DnsCounters,
  ) {}

  async forward(request: ForwardRequest, servers: readonly Upstream[]): Promise<ForwardOutcome> {
    if (servers.length === 0)
      return { kind: "failed", reason: "this computer has no DNS resolvers configured" };
    const deadline = performance.now() + this.timeouts.totalMs;
    const problems: string[] = [];
    let pending = [...servers];
    for (let round = 0; round < this.timeouts.rounds && pending.length > 0; round++) {
      const thisRound = pending;
      pending = [];
      for (const server of thisRound) {
        const protocol: UpstreamProtocol = request.viaTcp ? "tcp" : "udp";
        try {
          const outcome = await this.ask(request, server, protocol, deadline);
          if (outcome.kind === "answer") return outcome;
          problems.push(outcome.reason);
        } catch (error) {
          this.counters.upstreamFailures++;
          if (!(error instanceof UpstreamError)) throw error;
          problems.push(error.message);
          if (error.failure !== "bad-response") pending.push(server);
        }
        if (performance.now() >= deadline) {
          problems.push(`gave up after ${this.timeouts.totalMs} ms`);
          return { kind: "failed", reason: problems.join("; ") };
        }
      }
    }
    return { kind: "failed", reason: problems.join("; ") };
  }

  /** One resolver; resolves with its usable answer or why it gave none, rejects on no answer at all. */
  private async ask(
    request: ForwardRequest,
    server: Upstream,
    protocol: UpstreamProtocol,
    deadline: number,
  ): Promise<ForwardOutcome> {
    let used = protocol;
    let detail: string | null = null;
    let attempt: Attempt;
    try {
      attempt = await this.attempt(request, server, used, deadline);
    } catch (error) {
      // Some resolvers (VPN clients' DNS proxies among them) speak only UDP.
      if (!(error instanceof UpstreamError) || used === "udp" || error.failure === "bad-response")
        throw error;
      this.counters.upstreamFailures++;
      detail = `TCP failed (${error.message}), asked over UDP`;
      used = "udp";
      attempt = await this.attempt(request, server, used, deadline);
    }
    if (attempt.parsed.header.flags & Flag.TC && used === "udp" && protocol === "udp") {
      this.counters.upstreamTruncated++;
      try {
        attempt = await this.attempt(request, server, "tcp", deadline);
        used = "tcp";
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        this.counters.upstreamFailures++;
        detail = `truncated over UDP and TCP failed: ${error.message}`;
      }
    }
    const resolver = describeUpstream(server, used);
    const rcode = attempt.parsed.header.rcode;
    if (TRY_NEXT.has(rcode)) {
      this.counters.upstreamFailures++;
      return { kind: "failed", reason: `${resolver}: ${rcodeName(rcode)}` };
    }
    return { kind: "answer", message: attempt.message, parsed: attempt.parsed, rcode, resolver, detail };
  }

  /** One exchange, and a second without EDNS if the resolver rejects EDNS (RFC 6891 §7). */
  private async attempt(
    request: ForwardRequest,
    server: Upstream,
    protocol: UpstreamProtocol,
    deadline: number,
  ): Promise<Attempt> {
    const first = await this.exchangeOnce(request, server, protocol, deadline, true);
    const rcode = first.parsed.header.rcode;
    if (rcode !== Rcode.FORMERR && rcode !== Rcode.NOTIMP) return first;
    return this.exchangeOnce(request, server, protocol, deadline, false);
  }

  private async exchangeOnce(
    request: ForwardRequest,
    server: Upstream,
    protocol: UpstreamProtocol,
    deadline: number,
    edns: boolean,
  ): Promise<Attempt> {
    const resolver = describeUpstream(server, protocol);
    const perAttempt = protocol === "udp" ? this.timeouts.udpAttemptMs : this.timeouts.tcpAttemptMs;
    const timeoutMs = Math.min(perAttempt, Math.max(1, Math.round(deadline - performance.now())));
    const query = buildUpstreamQuery(request.question, randomInt(0x10000), {
      edns,
      dnssecOk: request.dnssecOk,
      checkingDisabled: request.checkingDisabled,
    });
    this.counters.upstreamQueries++;
    const message = await this.exchange(query, server, protocol, timeoutMs);
    return { message, parsed: checkResponse(message, request.question, resolver) };
  }
}

/** The response must parse whole and answer exactly our question. */
function checkResponse(message: Buffer, question: QuestionParts, resolver: string): WireMessage {
  let parsed: WireMessage;
  try {
    parsed = parseMessage(message);
  } catch (error) {
    if (!(error instanceof WireFormatError)) throw error;
    throw new UpstreamError("bad-response", resolver, `malformed response: ${error.message}`);
  }
  const { header } = parsed;
  if (header.opcode !== 0)
    throw new UpstreamError("bad-response", resolver, `response opcode ${header.opcode}`);
  const answered = parsed.questions[0];
  if (parsed.questions.length === 0 && TRY_NEXT.has(header.rcode)) return parsed;
  if (
    parsed.questions.length !== 1 ||
    !answered ||
    answered.type !== question.type ||
    answered.klass !== question.klass ||
    !namesEqual(message.subarray(answered.nameStart, answered.nameEnd), question.name)
  ) {
    throw new UpstreamError("bad-response", resolver, "the response is for another question");
  }
  return parsed;
}
