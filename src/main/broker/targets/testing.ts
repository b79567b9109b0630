// Test support: runs the code under test against e2e/fake-gh/gh, a fake of GitHub's CLI (GitHub's
// API cannot be reached from test machines). Each FakeGh has its own copy of the codespaces, its
// own HOME, and a log of every argv gh was run with.
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GhOptions } from "./gh.js";

export const FAKE_GH = fileURLToPath(new URL("../../../../e2e/fake-gh/gh", import.meta.url));
const CODESPACES = fileURLToPath(new URL("../../../../e2e/fake-gh/codespaces.json", import.meta.url));

export interface FakeGh {
  /** Options that make the code under test run the fake. */
  options: GhOptions;
  home: string;
  /** Every run's argv, in order. */
  calls(): Promise<string[][]>;
  /** The codespaces as the fake now holds them (states change as they are started). */
  codespaces(): Promise<Array<{ name: string; state: string }>>;
  cleanup(): Promise<void>;
}

/** `fail`: FAKE_GH_FAIL, to make the fake answer as a logged-out or under-scoped gh would. */
export async function fakeGh(fail?: "not-logged-in" | "missing-scope" | "old-gh"): Promise<FakeGh> {
  const dir = await mkdtemp(join(tmpdir(), "backhaul-fake-gh-"));
  const home = join(dir, "home");
  await mkdir(home);
  const codespaces = join(dir, "codespaces.json");
  await copyFile(CODESPACES, codespaces);
  const log = join(dir, "argv.log");
  const env: Record<string, string | undefined> = {
    ...process.env,
    HOME: home,
    FAKE_GH_CODESPACES: codespaces,
    FAKE_GH_ARGV_LOG: log,
    FAKE_GH_FAIL: fail,
  };
  return {
    options: { ghPath: FAKE_GH, env },
    home,
    calls: async () => {
      const text = await readFile(log, "utf8").catch(() => "");
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]);
    },
    codespaces: async () =>
      JSON.parse(await readFile(codespaces, "utf8")) as Array<{ name: string; state: string }>,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
