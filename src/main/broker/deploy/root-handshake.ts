// Between `sudo … sh -c '<root start script>'` and the link: everything sudo writes on stderr
// (its lecture, its prompt, "Sorry, try again.") is read here and never shown as the agent's,
// the password is written to stdin only when sudo's own prompt (ours, via -p) asks for it, and a
// second prompt means it was refused. The script's first line on stderr says sudo let it run;
// from then on stderr is the agent's, sanitised line by line.
import type { Readable } from "node:stream";
import { sanitisedLines } from "../remote-lines.js";
import { sanitiseRemoteText } from "../../../shared/remote-text.js";
import { DeployFailedError, SudoRefusedError } from "./errors.js";
import type { AgentProcess } from "./remote-shell.js";
import { ROOT_STARTED_LINE, SUDO_PASSWORD_PROMPT } from "./root-start.js";

/** sudo's words before the script runs are short; more than this is not waited for whole. */
const SEEN_LIMIT = 64 * 1024;

export interface RootHandshakeOptions {
  /** For `sudo -S`: written once, when sudo asks. Null: sudo must not ask (`sudo -n`). */
  password: Buffer | null;
  /** "bhxpw@devbox", for messages. */
  who: string;
  timeoutMs: number;
}

/** Resolves with the agent's stderr (sanitised lines) once the root start script runs. */
export function awaitRootStart(agent: AgentProcess, options: RootHandshakeOptions): Promise<Readable> {
  const prompt = Buffer.from(SUDO_PASSWORD_PROMPT);
  const started = Buffer.from(`${ROOT_STARTED_LINE}\n`);
  const stderr = agent.stderr;
  let seen = Buffer.alloc(0);
  let asked = 0;
  let settled = false;
  return new Promise((resolve, reject) => {
    // sudo's last line is its verdict ("Sorry, try again.", "a password is required"); its lecture is not.
    const said = (): string =>
      sanitiseRemoteText(seen.toString("utf8"))
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean)
        .at(-1) ?? "";
    const stop = (): void => {
      settled = true;
      clearTimeout(timer);
      stderr.off("data", onData);
    };
    const fail = (error: Error): void => {
      stop();
      agent.close();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      let at: number;
      while ((at = seen.indexOf(prompt)) >= 0) {
        seen = Buffer.concat([seen.subarray(0, at), seen.subarray(at + prompt.length)]);
        asked++;
        if (!options.password)
          return fail(new SudoRefusedError(`sudo on ${options.who} asked for a password.`, "no-password"));
        if (asked > 1) {
          const words = said();
          return fail(
            new SudoRefusedError(
              `sudo on ${options.who} refused the password${words ? ` (it said: ${words})` : ""}.`,
              "wrong-password",
            ),
          );
        }
        agent.stream.write(options.password);
        agent.stream.write("\n");
      }
      const marker = seen.indexOf(started);
      if (marker >= 0) {
        stop();
        const lines = sanitisedLines();
        lines.write(seen.subarray(marker + started.length));
        stderr.pipe(lines);
        resolve(lines);
        return;
      }
      if (seen.length > SEEN_LIMIT) seen = seen.subarray(seen.length - SEEN_LIMIT);
    };
    const onExit = (exitCode: number | null): void => {
      if (settled) return;
      const words = said();
      // sudo exited (it said why): asking again would fail again. No exit code: the link broke.
      const error =
        exitCode === null
          ? new DeployFailedError(`the connection closed before sudo on ${options.who} started the agent`)
          : new SudoRefusedError(
              `sudo on ${options.who} did not start the agent (exit code ${exitCode})${words ? `: ${words}` : "."}`,
            );
      fail(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new DeployFailedError(
            `sudo on ${options.who} did not start the agent within ${Math.round(options.timeoutMs / 1000)} s${seen.length > 0 ? `; it said: ${said()}` : ""}`,
          ),
        ),
      options.timeoutMs,
    );
    void agent.exited.then(onExit);
    stderr.on("data", onData);
  });
}
