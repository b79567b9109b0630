/**
 * Records a session's packets into one pcapng file, across reconnects: each link adds a section.
 * main opens the file as the user (mode 0600); the exit side (maybe an elevated helper) only
 * streams the bytes (helper-protocol.ts). The size limit holds for the whole file.
 *
 * It stops for good, and says why once, at the limit, when the file fails (disk full) or on
 * `stop()`; a capture ended by its link closing resumes when the session reconnects.
 */
import type { WriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { megabytes } from "../../helper/engines/capture/pcapng-writer.js";
import type { ExitHandle, PacketCapture } from "./exit-handle.js";

/** The part of a Session the recorder follows. */
export interface RecordedSession {
  readonly exit: ExitHandle | undefined;
  on(event: "exit", listener: (exit: ExitHandle) => void): unknown;
  off(event: "exit", listener: (exit: ExitHandle) => void): unknown;
}

export interface PacketRecorderOptions {
  path: string;
  maxBytes: number;
  /** Names the session in the file's interfaces and comments. */
  session: string;
  /** Told once, when recording stops for good: the sentence to show. */
  onStop?: (reason: string) => void;
  /** Replace a file already at `path` (the default), or refuse to start over it. */
  replace?: boolean;
}

/** Below this, a new section would hold little more than its headers: not worth starting. */
const MIN_SECTION_BYTES = 4096;
const LINK_CLOSED_WAIT_MS = 1_000;

export class PacketRecorder {
  private active = false;
  private written = 0;
  private opened = false;
  private capture: PacketCapture | undefined;
  private finished: Promise<void> = Promise.resolve();
  private stopReason: string | undefined;

  constructor(
    private readonly session: RecordedSession,
    private readonly options: PacketRecorderOptions,
  ) {}

  get path(): string {
    return this.options.path;
  }

  get recording(): boolean {
    return this.active;
  }

  /** Bytes in the file so far. */
  get bytes(): number {
    return this.written + (this.capture?.bytes ?? 0);
  }

  /** Why recording stopped, once it has. */
  get stopped(): string | undefined {
    return this.stopReason;
  }

  /** Starts recording the current link, and each one after a reconnect. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.session.on("exit", this.follow);
    if (this.session.exit) this.follow(this.session.exit);
  }

  /** Stops recording; resolves with the sentence to show once the file is complete. */
  async stop(): Promise<string> {
    if (this.active) {
      this.capture?.stop();
      this.end(`capture stopped at ${megabytes(this.bytes)} MB`);
    }
    await this.finished;
    return this.stopReason ?? `capture stopped at ${megabytes(this.bytes)} MB`;
  }

  private readonly follow = (exit: ExitHandle): void => {
    const previous = this.finished;
    this.finished = previous.then(() => this.record(exit));
  };

  private async record(exit: ExitHandle): Promise<void> {
    const room = this.options.maxBytes - this.written;
    if (!this.active || room < MIN_SECTION_BYTES) return;
    let capture: PacketCapture;
    let stream: WriteStream | undefined;
    try {
      // Truncated the first time (a fresh capture), appended to after a reconnect.
      const first = this.options.replace === false ? "wx" : "w";
      const file = await open(this.options.path, this.opened ? "a" : first, 0o600);
      stream = file.createWriteStream(); // owns the handle from here: closing it closes the file
      this.opened = true;
      await file.chmod(0o600); // a file that was there keeps its mode otherwise
      capture = await exit.startCapture(stream, {
        maxBytes: room,
        session: this.options.session,
      });
    } catch (error) {
      stream?.destroy();
      this.end(
        `could not record packets to ${this.options.path}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    this.capture = capture;
    if (!this.active) capture.stop(); // stopped while the file was opening
    const reason = await capture.ended;
    this.written += capture.bytes;
    this.capture = undefined;
    // The helper ends a capture when its link closes, and says the link closed on another
    // connection: give that word a moment to arrive.
    const linkClosed = await Promise.race([
      exit.closed.then(() => true),
      delay(LINK_CLOSED_WAIT_MS).then(() => false),
    ]);
    if (!linkClosed) this.end(reason);
  }

  private end(reason: string): void {
    if (!this.active) return;
    this.active = false;
    this.stopReason = reason;
    this.session.off("exit", this.follow);
    this.options.onStop?.(reason);
  }
}
