// Secrets the CLI reads (sudo's password) as bytes it can wipe, never as strings: from standard
// input for scripts, or typed on the terminal without echo.
import type { ReadStream } from "node:tty";

/** Everything on standard input up to EOF, without one trailing line break; null when empty. */
export async function readSecretFromStdin(
  input: NodeJS.ReadableStream = process.stdin,
): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const all = Buffer.concat(chunks);
  for (const chunk of chunks) chunk.fill(0);
  let end = all.length;
  if (all[end - 1] === 0x0a) end--;
  if (all[end - 1] === 0x0d) end--;
  if (end === 0) return null;
  const secret = Buffer.from(all.subarray(0, end));
  all.fill(0);
  return secret;
}

const ENTER = new Set([0x0a, 0x0d]);
const ERASE = new Set([0x08, 0x7f]);
const CANCEL = new Set([0x03, 0x04]); // Ctrl+C, Ctrl+D

/**
 * Asks on the terminal, echoing nothing; null when there is no terminal or the user pressed
 * Ctrl+C or Ctrl+D. The typed bytes live in one buffer, wiped once copied out.
 */
export async function askSecret(
  question: string,
  input: NodeJS.ReadStream = process.stdin,
): Promise<Buffer | null> {
  if (!input.isTTY) return null;
  const tty = input as ReadStream;
  process.stderr.write(question);
  const typed = Buffer.alloc(1024);
  let length = 0;
  tty.setRawMode(true);
  tty.resume();
  try {
    const done = await new Promise<boolean>((resolve) => {
      const onData = (chunk: Buffer): void => {
        for (const byte of chunk) {
          if (ENTER.has(byte) || CANCEL.has(byte)) {
            tty.off("data", onData);
            resolve(ENTER.has(byte));
            break;
          }
          if (ERASE.has(byte)) length = Math.max(0, length - 1);
          else if (length < typed.length) typed[length++] = byte;
        }
        chunk.fill(0);
      };
      tty.on("data", onData);
    });
    process.stderr.write("\n");
    return done ? Buffer.from(typed.subarray(0, length)) : null;
  } finally {
    typed.fill(0);
    tty.setRawMode(false);
    tty.pause();
  }
}
