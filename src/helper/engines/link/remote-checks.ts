/**
 * The asking side of remote checks (diagnose-frames.ts): sends DIAGNOSE over a link and matches
 * each DIAGNOSE_RESULT to its request by id. Bounded both ways: a few requests at a time, each
 * with a timeout, and a result nobody asked for (or asked for and gave up on) is dropped.
 */
import { CodedError } from "../../../shared/coded-error.js";
import type { RemoteDiagnosis } from "../../../shared/diagnose-frames.js";
import { Capability } from "../../../shared/link-protocol.js";
import type { Link } from "./link.js";

/** Long enough for the agent's lookup, route and connect (each bounded by 5 s on its side). */
export const REMOTE_CHECK_TIMEOUT_MS = 20_000;
const MAX_IN_FLIGHT = 4;

export type RemoteCheckErrorCode =
  /** The agent is older and does not answer DIAGNOSE. */
  | "UNSUPPORTED"
  | "TIMEOUT"
  | "LINK_CLOSED"
  /** Too many checks at once. */
  | "BUSY";

export class RemoteCheckError extends CodedError<RemoteCheckErrorCode> {
  override readonly name = "RemoteCheckError";
}

export interface RemoteCheckQuestion {
  host: string;
  port: number;
  /** This computer's answer for a name, checked by the remote when its own resolver has none. */
  address: string | null;
}

interface Pending {
  resolve(result: RemoteDiagnosis): void;
  reject(error: RemoteCheckError): void;
  timer: NodeJS.Timeout;
}

export class RemoteChecks {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Results that matched no request: late ones, or a peer's inventions. */
  unmatched = 0;

  constructor(
    private readonly link: Link,
    private readonly timeoutMs = REMOTE_CHECK_TIMEOUT_MS,
  ) {
    link.on("diagnoseResult", (result) => {
      const pending = this.pending.get(result.id);
      if (pending === undefined) {
        this.unmatched++;
        return;
      }
      this.pending.delete(result.id);
      clearTimeout(pending.timer);
      pending.resolve(result);
    });
    link.once("close", () => {
      for (const pending of this.pending.values()) {
        clearTimeout(pending.timer);
        pending.reject(new RemoteCheckError("LINK_CLOSED", "the link closed before the remote answered"));
      }
      this.pending.clear();
    });
  }

  ask(question: RemoteCheckQuestion): Promise<RemoteDiagnosis> {
    if (!this.link.isOpen)
      return Promise.reject(new RemoteCheckError("LINK_CLOSED", "the link to the remote is not open"));
    if ((this.link.sharedCapabilities & Capability.Diagnose) === 0)
      return Promise.reject(
        new RemoteCheckError(
          "UNSUPPORTED",
          `the remote's agent (Backhaul ${this.link.peer?.softwareVersion ?? "?"}) cannot check from its side: reconnect to update it`,
        ),
      );
    if (this.pending.size >= MAX_IN_FLIGHT)
      return Promise.reject(new RemoteCheckError("BUSY", "too many remote checks at once: try again"));
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return new Promise<RemoteDiagnosis>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new RemoteCheckError("TIMEOUT", `the remote did not answer within ${this.timeoutMs / 1000} s`),
        );
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      if (!this.link.sendDiagnoseRequest({ id, ...question })) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new RemoteCheckError("LINK_CLOSED", "the link could not take the request"));
      }
    });
  }
}
