/** Targets the user connected to, newest first, persisted as recents.json in the data directory. */
import { join } from "node:path";
import { readJsonFile, writeJsonFileAtomic } from "./json-file.js";

interface RecentEntry {
  id: string;
  at: number;
}

const MAX_RECENTS = 20;

export class Recents {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    private entries: RecentEntry[],
  ) {}

  static async open(dataDir: string, warn: (line: string) => void): Promise<Recents> {
    const path = join(dataDir, "recents.json");
    let entries: RecentEntry[] = [];
    try {
      entries = parseEntries(await readJsonFile(path));
    } catch (error) {
      warn(`recents: ${path} is unreadable (${(error as Error).message}); starting afresh`);
    }
    return new Recents(path, entries);
  }

  /** Target ids, newest first. */
  ids(): string[] {
    return this.entries.map((entry) => entry.id);
  }

  lastUsedAt(id: string): number | null {
    return this.entries.find((entry) => entry.id === id)?.at ?? null;
  }

  async touch(id: string, at = Date.now()): Promise<void> {
    this.entries = [{ id, at }, ...this.entries.filter((entry) => entry.id !== id)].slice(0, MAX_RECENTS);
    const snapshot = [...this.entries];
    this.writing = this.writing.catch(() => undefined).then(() => writeJsonFileAtomic(this.path, snapshot));
    await this.writing;
  }
}

function parseEntries(value: unknown): RecentEntry[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error("not a list");
  return value
    .filter(
      (item): item is RecentEntry =>
        typeof item === "object" &&
        item !== null &&
        typeof (item as RecentEntry).id === "string" &&
        typeof (item as RecentEntry).at === "number",
    )
    .slice(0, MAX_RECENTS);
}
