/**
 * Questions the broker asks the user mid-connect (an unknown host key, a key's passphrase). The
 * window shows a `prompt` event and answers with `prompt:answer`; one that nobody answers within
 * the timeout counts as cancelled, so a connect never hangs on a closed window.
 */
import { randomUUID } from "node:crypto";
import type { Prompt, PromptAnswer } from "../../shared/api.js";

export const PROMPT_TIMEOUT_MS = 120_000;

interface Pending {
  resolve(answer: string | null): void;
  timer: NodeJS.Timeout;
}

export class PromptBroker {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly show: (prompt: Prompt) => void,
    private readonly timeoutMs = PROMPT_TIMEOUT_MS,
  ) {}

  /** Resolves with the answer, or null when cancelled or unanswered in time. */
  ask(kind: Prompt["kind"], message: string): Promise<string | null> {
    const id = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, null), this.timeoutMs);
      this.pending.set(id, { resolve, timer });
      this.show({ id, kind, message });
    });
  }

  /** Throws when the prompt is not waiting (answered already, timed out, or never asked). */
  answer({ id, answer }: PromptAnswer): void {
    if (!this.pending.has(id)) throw new Error("that question is no longer waiting for an answer");
    this.settle(id, answer);
  }

  /** The session ended: every open question is cancelled. */
  cancelAll(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, null);
  }

  /** Whether the prompt `id` is one of this broker's, still waiting. */
  has(id: string): boolean {
    return this.pending.has(id);
  }

  get waiting(): number {
    return this.pending.size;
  }

  private settle(id: string, answer: string | null): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(answer);
  }
}
