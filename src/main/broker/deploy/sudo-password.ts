// sudo's password for one session: asked once, held in memory for its reconnects, and zeroed
// when the session ends or sudo refuses it. It only ever travels to `sudo -S` on the exec
// channel's stdin (root-handshake.ts): never on a command line, in the environment or a log.
import { SudoRefusedError } from "./errors.js";

/** Resolves with the password's bytes (handed over: they are wiped here), or null when declined. */
export type SudoPasswordPrompt = (question: { user: string; host: string }) => Promise<Buffer | null>;

export class SudoPassword {
  private bytes: Buffer | null = null;

  constructor(private readonly prompt: SudoPasswordPrompt) {}

  /** The held password, or the user's answer to the prompt. */
  async get(user: string, host: string): Promise<Buffer> {
    if (this.bytes) return this.bytes;
    const answer = await this.prompt({ user, host });
    if (answer === null)
      throw new SudoRefusedError(
        `sudo on ${user}@${host} needs a password, and none was given.`,
        "no-password",
      );
    this.bytes = answer;
    return answer;
  }

  /** Fills the held bytes with zeros and forgets them; the next get() asks again. */
  wipe(): void {
    this.bytes?.fill(0);
    this.bytes = null;
  }
}
