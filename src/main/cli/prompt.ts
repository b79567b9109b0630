import { createInterface } from "node:readline";
import { Writable } from "node:stream";

/** Asks on the terminal; `secret` keeps the answer off the screen (a key's passphrase). */
export async function ask(question: string, secret = false): Promise<string | null> {
  if (!process.stdin.isTTY) return null; // nobody to ask: callers treat null as "declined"
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = new Promise<string>((resolve) => rl.question(question, resolve));
    muted = secret;
    const text = await answer;
    if (secret) process.stderr.write("\n");
    return text;
  } finally {
    rl.close();
  }
}
