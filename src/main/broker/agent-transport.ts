/**
 * What SSH and `exec:` transports share around their own `open`: errors only the user can fix
 * (a refused key, sudo, a remote that lacks something) end the session as FatalSessionError; any
 * other error is left as it is, for the session to retry with backoff.
 */
import type { ConnectStep } from "../../shared/api.js";
import { FatalSessionError, type AgentTransport } from "./session.js";

export type ErrorClass = new (...args: never[]) => Error;

export function agentTransport<O>(
  options: O,
  open: (options: O, step: (step: ConnectStep) => void, exitReady?: Promise<void>) => Promise<AgentTransport>,
  fatal: readonly ErrorClass[],
): (step: (step: ConnectStep) => void, exitReady?: Promise<void>) => Promise<AgentTransport> {
  return async (step, exitReady) => {
    try {
      return await open(options, step, exitReady);
    } catch (error) {
      if (error instanceof Error && fatal.some((kind) => error instanceof kind))
        throw new FatalSessionError(error.message, { cause: error });
      throw error;
    }
  };
}
