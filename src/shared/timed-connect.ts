/**
 * A diagnosis's TCP connect, timed and explained the same way on both sides: this computer's
 * (main/app/diagnostics.ts) and the remote's (helper/agent/remote-diagnose.ts).
 */

/** A connect's outcome: its latency to a tenth of a millisecond, and why it failed. */
export interface TimedConnect {
  ok: boolean;
  latencyMs: number;
  error: string | null;
  /** The errno name the failure carried (ECONNREFUSED, …), when it looks like one. */
  code: string | null;
}

/** Runs `connect` and times it with `now` (milliseconds); a rejection is a failed connect. */
export async function timedConnect(connect: () => Promise<void>, now: () => number): Promise<TimedConnect> {
  const started = now();
  try {
    await connect();
    return { ok: true, latencyMs: roundMs(now() - started), error: null, code: null };
  } catch (error) {
    const code = errorCode(error);
    return {
      ok: false,
      latencyMs: roundMs(now() - started),
      error: errorText(error),
      code: typeof code === "string" && /^[A-Z0-9_]{1,32}$/.test(code) ? code : null,
    };
  }
}

/** Milliseconds to a tenth. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** The error's message, led by its errno name when the message does not say it already. */
export function errorText(error: unknown): string {
  const code = errorCode(error) as string | undefined;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}
