/** The user's settings, persisted as settings.json in the data directory. */
import { join } from "node:path";
import { DEFAULT_SETTINGS, type Settings } from "../../shared/api.js";
import { validateSettings } from "../../shared/api-validate.js";
import { readJsonFile, writeJsonFileAtomic } from "./json-file.js";

export class SettingsStore {
  private settings: Settings;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    settings: Settings,
  ) {
    this.settings = settings;
  }

  /** Reads the file; a missing or unreadable one gives the defaults (and a warning for the latter). */
  static async open(dataDir: string, warn: (line: string) => void): Promise<SettingsStore> {
    const path = join(dataDir, "settings.json");
    let settings = DEFAULT_SETTINGS;
    try {
      const stored = await readJsonFile(path);
      // A file from an older version may lack newer fields: the defaults fill them in.
      if (stored !== undefined) settings = validateSettings({ ...DEFAULT_SETTINGS, ...asObject(stored) });
    } catch (error) {
      warn(`settings: ${path} is unreadable (${(error as Error).message}); using the defaults`);
    }
    return new SettingsStore(path, { ...settings });
  }

  get current(): Settings {
    return structuredClone(this.settings);
  }

  /** Takes validated settings; resolves once they are on disk. */
  async set(settings: Settings): Promise<Settings> {
    this.settings = structuredClone(settings);
    const snapshot = this.current;
    // One write at a time, in order: the file always ends up with the last settings.
    this.writing = this.writing.catch(() => undefined).then(() => writeJsonFileAtomic(this.path, snapshot));
    await this.writing;
    return this.current;
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object");
  const known = Object.keys(DEFAULT_SETTINGS);
  return Object.fromEntries(Object.entries(value).filter(([key]) => known.includes(key)));
}
