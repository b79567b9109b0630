/**
 * What the exit owes the probes sent so far, settled by what it sends back. Fails on silence (a
 * required answer missing past its deadline), on a wrong answer (a SYN-ACK where a refusal was
 * owed), and on anything answering as a refused destination (a leak through the policy).
 */
import { parseAddress } from "../../src/helper/engines/packet/index.js";
import { Answer, answerName, type ExitAnswer, type IcmpErrorShape, type Probe } from "./probe.js";
import { TARGETS } from "./targets.js";

interface Expectation {
  /** Required answers still owed. */
  owed: number;
  accept: number;
  deadline: number;
  dials: number;
  /** Also has optional probes: kept until the deadline, to judge late answers. */
  optional: boolean;
  probe: Probe;
  /** When to send the probe again, and the wait after that (retransmitted SYNs). */
  resendAt: number;
  backoffMs: number;
}

const FIRST_RETRANSMIT_MS = 1_000;

/** Answers that only a destination that was really reached could send. */
const REACHED = Answer.SYN_ACK | Answer.TCP_OTHER | Answer.UDP | Answer.ECHO_REPLY;
const MAX_VIOLATIONS = 30;
const EXAMPLES_PER_KIND = 2;

const withoutPort = (label: string): string => label.replace(/ port \d+$/, "");
const sameIcmpError = (a: IcmpErrorShape, b: IcmpErrorShape): boolean =>
  a.type === b.type && a.code === b.code && a.pointer === b.pointer;
const shape = (e: IcmpErrorShape): string => `type ${e.type} code ${e.code} pointer ${e.pointer}`;

export class Oracle {
  private readonly expected = new Map<string, Expectation>();
  private readonly refusedAddresses = new Set(
    TARGETS.filter((t) => t.class === "refused").map((t) =>
      Buffer.from(parseAddress(t.address)).toString("hex"),
    ),
  );
  readonly violations: string[] = [];
  sent = 0;
  required = 0;
  answered = 0;
  unsolicited = 0;
  /** Owed answers that came, by kind (what the refusals and replies were). */
  readonly answeredByKind: Record<string, number> = {};
  /** SYNs sent again (see Probe.retransmit). */
  retransmitted = 0;
  /** Required answers that never came. */
  missing = 0;
  /** Probes that opened something and are not settled yet. */
  dialsInFlight = 0;

  constructor(
    private readonly seed: number,
    /** Sends a probe again (see Probe.retransmit). */
    private readonly resend: (packet: Buffer) => void,
  ) {}

  expect(probe: Probe, now: number): void {
    this.sent++;
    if (probe.key === null) return;
    const dials = probe.dials && probe.required ? 1 : 0;
    const deadline = now + probe.deadlineMs;
    const entry = this.expected.get(probe.key);
    if (probe.required) this.required++;
    this.dialsInFlight += dials;
    if (entry) {
      entry.owed += probe.required ? 1 : 0;
      entry.accept |= probe.accept;
      entry.deadline = Math.max(entry.deadline, deadline);
      entry.dials += dials;
      entry.optional ||= !probe.required;
      return;
    }
    this.expected.set(probe.key, {
      owed: probe.required ? 1 : 0,
      accept: probe.accept,
      deadline,
      dials,
      optional: !probe.required,
      probe,
      resendAt: probe.retransmit ? now + FIRST_RETRANSMIT_MS : Number.POSITIVE_INFINITY,
      backoffMs: FIRST_RETRANSMIT_MS,
    });
  }

  settle(answer: ExitAnswer): void {
    if (this.refusedAddresses.has(answer.from) && answer.kind & REACHED) {
      this.violation(
        `a ${answerName(answer.kind)} came from a refused destination (${answer.key})`,
        `leak: ${answerName(answer.kind)} from ${answer.from}`,
      );
    }
    const entry = this.expected.get(answer.key);
    if (!entry) {
      this.unsolicited++;
      return;
    }
    if (!(entry.accept & answer.kind)) {
      this.violation(
        `${entry.probe.label}: answered with ${answerName(answer.kind)}; ` +
          `owed one of ${this.kinds(entry.accept)}; packet ${entry.probe.packet.toString("hex")}`,
        `wrong answer ${answerName(answer.kind)}: ${withoutPort(entry.probe.label)}`,
      );
      return;
    }
    const owed = entry.probe.icmpError;
    if (owed && answer.icmp && !sameIcmpError(owed, answer.icmp)) {
      this.violation(
        `${entry.probe.label}: answered with ICMP ${shape(answer.icmp)}; owed ICMP ${shape(owed)}; ` +
          `packet ${entry.probe.packet.toString("hex")}`,
        `wrong ICMP error ${shape(answer.icmp)}: ${withoutPort(entry.probe.label)}`,
      );
      return;
    }
    if (entry.owed === 0) return;
    entry.owed--;
    this.answered++;
    const name = answerName(answer.kind);
    this.answeredByKind[name] = (this.answeredByKind[name] ?? 0) + 1;
    if (entry.dials > 0) {
      entry.dials--;
      this.dialsInFlight--;
    }
    if (entry.owed === 0 && !entry.optional) this.expected.delete(answer.key);
  }

  /** Fails every required answer past its deadline; forgets settled optional ones. */
  sweep(now: number): void {
    for (const [key, entry] of this.expected) {
      if (entry.owed > 0 && entry.resendAt <= now && entry.deadline > now) {
        this.resend(entry.probe.packet);
        this.retransmitted++;
        entry.backoffMs *= 2;
        entry.resendAt = now + entry.backoffMs;
      }
      if (entry.deadline > now) continue;
      this.expected.delete(key);
      this.dialsInFlight -= entry.dials;
      if (entry.owed > 0) {
        this.missing += entry.owed;
        this.violation(
          `silence: ${entry.owed} answer(s) owed to ${entry.probe.label} ` +
            `(${this.kinds(entry.accept)}); packet ${entry.probe.packet.toString("hex")}`,
          `silence: ${withoutPort(entry.probe.label)}`,
        );
      }
    }
  }

  /** Required answers not yet settled. */
  get owed(): number {
    return this.required - this.answered - this.missing;
  }

  private kinds(mask: number): string {
    return (
      Object.entries(Answer)
        .filter(([, bit]) => mask & bit)
        .map(([name]) => name)
        .join("|") || "no answer"
    );
  }

  /** Failures by what failed (the probe's label): a few examples of each, all counted. */
  readonly violationCounts = new Map<string, number>();

  private violation(text: string, what: string): void {
    const seen = this.violationCounts.get(what) ?? 0;
    this.violationCounts.set(what, seen + 1);
    if (seen < EXAMPLES_PER_KIND && this.violations.length < MAX_VIOLATIONS)
      this.violations.push(`${text} [BACKHAUL_FUZZ_SEED=${this.seed}]`);
  }
}
