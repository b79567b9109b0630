import assert from "node:assert/strict";
import { chmod, mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { AgentStillRunningError, JournalError, NothingChangedError } from "./errors.js";
import { Journal, type UndoOutcome } from "./journal.js";
import { currentIdentity, type ProcFs } from "./process-identity.js";
import { fakeProc, tempDir } from "./testing.js";
import { describeEntry, type JournalDocument, type UndoEntry } from "./undo-entry.js";

const ME = process.pid;
const DEAD_PID = 4_000_001;

interface Harness {
  path: string;
  undone: string[];
  /** Entries (by description) whose undo throws. */
  failing: Set<string>;
  journal(proc?: ProcFs): Journal;
}

let cleanup: () => Promise<void>;
let h: Harness;

beforeEach(async () => {
  const { dir, remove } = await tempDir();
  cleanup = remove;
  const undone: string[] = [];
  const failing = new Set<string>();
  const path = join(dir, "state", "journal.json");
  h = {
    path,
    undone,
    failing,
    journal: (proc = fakeProc({ [ME]: { startTime: "1000" } })) =>
      new Journal({
        path,
        proc,
        log: () => {},
        undo: (entry: UndoEntry): Promise<UndoOutcome> => {
          const what = describeEntry(entry);
          if (failing.has(what)) return Promise.reject(new Error(`cannot undo ${what}`));
          undone.push(what);
          return Promise.resolve({ status: "undone" });
        },
      }),
  };
});

afterEach(() => cleanup());

const route = (prefix: string): UndoEntry => ({ kind: "route", prefix, dev: "bh0" });

async function readDocument(path: string): Promise<JournalDocument> {
  return JSON.parse(await readFile(path, "utf8")) as JournalDocument;
}

async function writeDocument(path: string, document: JournalDocument): Promise<void> {
  await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify(document), { mode: 0o600 });
}

describe("recordThenApply", () => {
  test("writes the entry durably before applying, in a 0600 file in a 0700 directory", async () => {
    const journal = h.journal();
    await journal.recoverFromPreviousRun();
    let seenDuringApply: JournalDocument | undefined;
    await journal.recordThenApply(route("198.19.0.0/16"), async () => {
      seenDuringApply = await readDocument(h.path);
    });
    assert.deepEqual(seenDuringApply?.entries, [
      { kind: "route", prefix: "198.19.0.0/16", dev: "bh0", id: 1 },
    ]);
    assert.equal((await stat(h.path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(h.path, ".."))).mode & 0o777, 0o700);
    assert.deepEqual(
      (await readdir(join(h.path, ".."))).sort(),
      ["journal.json", "journal.json.lock"],
      "no temporary files are left",
    );
    await journal.undoAll();
  });

  test("is refused before recovery and after undoAll", async () => {
    const journal = h.journal();
    await assert.rejects(
      journal.recordThenApply(route("198.19.0.0/16"), async () => {}),
      JournalError,
    );
    await journal.recoverFromPreviousRun();
    await journal.undoAll();
    let applied = false;
    await assert.rejects(
      journal.recordThenApply(route("198.19.0.0/16"), async () => {
        applied = true;
      }),
      /shutting down/,
    );
    assert.equal(applied, false);
  });

  test("does not apply when the journal cannot be written", async () => {
    const journal = h.journal();
    await journal.recoverFromPreviousRun();
    const dir = join(h.path, "..");
    await rename(dir, `${dir}.moved`);
    await writeFile(dir, "a file where the directory was");
    let applied = false;
    await assert.rejects(
      journal.recordThenApply(route("198.19.0.0/16"), async () => {
        applied = true;
      }),
      (error: unknown) => error instanceof JournalError && /was not made/.test(error.message),
    );
    assert.equal(applied, false);
    assert.deepEqual(journal.entries(), []);
  });

  test("an existing directory open to others is refused and left as it was, never chmodded", async () => {
    const dir = join(h.path, "..");
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o755);
    await assert.rejects(
      h.journal().recoverFromPreviousRun(),
      (error: unknown) => error instanceof JournalError && /open to other users/.test(error.message),
    );
    assert.equal((await stat(dir)).mode & 0o777, 0o755);
  });

  test("a failed apply keeps its entry unless it changed nothing", async () => {
    const journal = h.journal();
    await journal.recoverFromPreviousRun();
    await assert.rejects(
      journal.recordThenApply(route("198.19.1.0/24"), () => Promise.reject(new Error("timed out"))),
      /timed out/,
    );
    await assert.rejects(
      journal.recordThenApply(route("198.19.2.0/24"), () =>
        Promise.reject(new NothingChangedError("File exists")),
      ),
      NothingChangedError,
    );
    assert.deepEqual(
      (await readDocument(h.path)).entries.map((entry) => entry.kind === "route" && entry.prefix),
      ["198.19.1.0/24"],
    );
    await journal.undoAll();
    assert.deepEqual(h.undone, ["route 198.19.1.0/24 dev bh0"]);
  });

  test("concurrent records are serialized and every version on disk is whole", async () => {
    const journal = h.journal();
    await journal.recoverFromPreviousRun();
    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        JSON.parse(await readFile(h.path, "utf8"));
        reads++;
      }
    })();
    const prefixes = Array.from({ length: 100 }, (_, i) => `198.19.${i}.0/24`);
    await Promise.all(prefixes.map((prefix) => journal.recordThenApply(route(prefix), async () => {})));
    reading = false;
    await reader;
    assert.ok(reads > 0);
    const entries = (await readDocument(h.path)).entries;
    assert.deepEqual(
      entries.map((entry) => entry.kind === "route" && entry.prefix),
      prefixes,
    );
    assert.deepEqual(
      entries.map((entry) => entry.id),
      prefixes.map((_, i) => i + 1),
    );
    await journal.undoAll();
  });
});

describe("undoAll", () => {
  test("undoes newest first, goes on past failures, reports them and keeps them for next time", async () => {
    const journal = h.journal();
    await journal.recoverFromPreviousRun();
    await journal.recordThenApply({ kind: "tun", name: "bh0" }, async () => {});
    await journal.recordThenApply({ kind: "address", cidr: "198.18.0.1/30", dev: "bh0" }, async () => {});
    await journal.recordThenApply(route("198.19.0.0/16"), async () => {});
    await journal.recordThenApply(route("2001:db8:19::/48"), async () => {});
    h.failing.add("route 198.19.0.0/16 dev bh0");
    h.failing.add("TUN interface bh0");
    const report = await journal.undoAll();
    assert.deepEqual(h.undone, ["route 2001:db8:19::/48 dev bh0", "address 198.18.0.1/30 on bh0"]);
    assert.deepEqual(
      report.failed.map(({ entry, error }) => `${describeEntry(entry)}: ${error.message}`),
      [
        "route 198.19.0.0/16 dev bh0: cannot undo route 198.19.0.0/16 dev bh0",
        "TUN interface bh0: cannot undo TUN interface bh0",
      ],
    );
    const left = await readDocument(h.path);
    assert.deepEqual(
      left.entries.map((entry) => entry.kind),
      ["tun", "route"],
      "the failed ones stay, in their order",
    );
  });

  test("removes the journal when everything was undone", async () => {
    const journal = h.journal();
    await journal.recoverFromPreviousRun();
    await journal.recordThenApply(route("198.19.0.0/16"), async () => {});
    const report = await journal.undoAll();
    assert.equal(report.undone.length, 1);
    await assert.rejects(stat(h.path), { code: "ENOENT" });
  });

  test("undo(id) undoes one entry and drops it", async () => {
    const journal = h.journal();
    await journal.recoverFromPreviousRun();
    await journal.recordThenApply(route("198.19.0.0/16"), async () => {});
    await journal.recordThenApply(route("198.19.1.0/24"), async () => {});
    const [first] = journal.entries();
    assert.deepEqual(await journal.undo(first!.id), { status: "undone" });
    assert.deepEqual(h.undone, ["route 198.19.0.0/16 dev bh0"]);
    assert.deepEqual(
      (await readDocument(h.path)).entries.map((entry) => entry.id),
      [2],
    );
    await journal.undoAll();
  });
});

describe("recoverFromPreviousRun", () => {
  const dead = (pid: number, startTime: string, bootId = "boot-1"): JournalDocument => ({
    version: 1,
    owner: { pid, startTime, bootId },
    entries: [
      { id: 1, kind: "tun", name: "bh0" },
      { id: 2, kind: "route", prefix: "198.19.0.0/16", dev: "bh0" },
      { id: 3, kind: "resolved-link", link: "bh0" },
    ],
  });

  test("undoes, newest first, what a dead agent left, and takes the journal over", async () => {
    await writeDocument(h.path, dead(DEAD_PID, "500"));
    await writeFile(`${h.path}.tmp-1-abcd`, "{ torn");
    const journal = h.journal();
    const recovery = await journal.recoverFromPreviousRun();
    assert.deepEqual(recovery.previousOwner, { pid: DEAD_PID, startTime: "500", bootId: "boot-1" });
    assert.deepEqual(h.undone, [
      "systemd-resolved DNS on bh0",
      "route 198.19.0.0/16 dev bh0",
      "TUN interface bh0",
    ]);
    const document = await readDocument(h.path);
    assert.deepEqual(document.owner, { pid: ME, startTime: "1000", bootId: "boot-1" });
    assert.deepEqual(document.entries, []);
    assert.deepEqual(
      (await readdir(join(h.path, ".."))).sort(),
      ["journal.json", "journal.json.lock"],
      "torn temporary files are removed",
    );
    await journal.recordThenApply(route("198.19.7.0/24"), async () => {});
    assert.equal(journal.entries()[0]?.id, 4, "ids continue after the old ones");
    await journal.undoAll();
  });

  test("a reused PID (another start time), a zombie or another boot count as dead", async () => {
    const cases: Array<[string, ProcFs, JournalDocument]> = [
      [
        "reused",
        fakeProc({ [ME]: { startTime: "1000" }, [DEAD_PID]: { startTime: "999" } }),
        dead(DEAD_PID, "500"),
      ],
      [
        "zombie",
        fakeProc({ [ME]: { startTime: "1000" }, [DEAD_PID]: { startTime: "500", state: "Z" } }),
        dead(DEAD_PID, "500"),
      ],
      [
        "reboot",
        fakeProc({ [ME]: { startTime: "1000" }, [DEAD_PID]: { startTime: "500" } }),
        dead(DEAD_PID, "500", "boot-0"),
      ],
    ];
    for (const [what, proc, document] of cases) {
      h.undone.length = 0;
      await writeDocument(h.path, document);
      const journal = h.journal(proc);
      await journal.recoverFromPreviousRun();
      assert.equal(h.undone.length, 3, what);
      await journal.undoAll();
    }
  });

  test("refuses, touching nothing, while the previous agent still runs", async () => {
    await writeDocument(h.path, dead(DEAD_PID, "500"));
    const before = await readFile(h.path);
    const alive = fakeProc({
      [ME]: { startTime: "1000" },
      [DEAD_PID]: { startTime: "500", comm: "node (agent) x" },
    });
    const journal = h.journal(alive);
    await assert.rejects(journal.recoverFromPreviousRun(), (error: unknown) => {
      assert.ok(error instanceof AgentStillRunningError);
      assert.match(error.message, new RegExp(`pid ${DEAD_PID}.*stop it first`));
      return true;
    });
    assert.deepEqual(h.undone, []);
    assert.deepEqual(await readFile(h.path), before);
    await assert.rejects(
      journal.recordThenApply(route("198.19.0.0/16"), async () => {}),
      JournalError,
    );
    // The lock was released: once the owner is gone, a new agent recovers.
    await h.journal().recoverFromPreviousRun();
    assert.equal(h.undone.length, 3);
  });

  test("a second agent on the same journal is refused while the first holds it", async () => {
    const real = await currentIdentity();
    const first = h.journal();
    await first.recoverFromPreviousRun();
    const second = h.journal();
    await assert.rejects(second.recoverFromPreviousRun(), (error: unknown) => {
      assert.ok(error instanceof AgentStillRunningError);
      assert.equal(error.owner?.pid, real.pid);
      return true;
    });
    await first.undoAll();
    await second.recoverFromPreviousRun();
    await second.undoAll();
  });

  test("an unreadable journal stops the agent with what to do, and nothing is undone", async () => {
    await mkdir(join(h.path, ".."), { recursive: true, mode: 0o700 });
    await writeFile(h.path, "{ not json", { mode: 0o600 });
    await assert.rejects(
      h.journal().recoverFromPreviousRun(),
      /not valid JSON: inspect it, undo what it lists by hand/,
    );
    await writeDocument(h.path, {
      ...dead(DEAD_PID, "500"),
      entries: [{ id: 1, kind: "firewall" }],
    } as unknown as JournalDocument);
    await assert.rejects(h.journal().recoverFromPreviousRun(), /not an undo record backhaul knows/);
    assert.deepEqual(h.undone, []);
  });
});

describe("undoWhere", () => {
  test("undoes only the entries it selects, newest first, and keeps the others and the failed ones", async () => {
    const journal = h.journal();
    await journal.recoverFromPreviousRun();
    await journal.recordThenApply(route("198.19.0.0/16"), async () => {});
    await journal.recordThenApply({ kind: "resolved-link", link: "bh0" }, async () => {});
    await journal.recordThenApply(route("198.19.1.0/24"), async () => {});
    await journal.recordThenApply({ kind: "resolved-link", link: "bh1" }, async () => {});
    h.failing.add("systemd-resolved DNS on bh0");
    const report = await journal.undoWhere((entry) => entry.kind === "resolved-link");
    assert.deepEqual(h.undone, ["systemd-resolved DNS on bh1"]);
    assert.deepEqual(
      report.failed.map(({ entry }) => describeEntry(entry)),
      ["systemd-resolved DNS on bh0"],
    );
    assert.deepEqual(
      (await readDocument(h.path)).entries.map((entry) => entry.id),
      [1, 2, 3],
      "the routes stay in force, the failed one stays for the next try",
    );
    h.failing.clear();
    await journal.undoAll();
    assert.deepEqual(h.undone, [
      "systemd-resolved DNS on bh1",
      "route 198.19.1.0/24 dev bh0",
      "systemd-resolved DNS on bh0",
      "route 198.19.0.0/16 dev bh0",
    ]);
  });
});
