// The macOS and Windows entries of this computer's journal, recorded, applied and undone: resolver
// files for real (in a temp directory), NRPT rules and routes against recorded command output.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { addNrptRules } from "../dns/nrpt.js";
import { writeResolverFiles } from "../dns/resolver-files.js";
import { Journal } from "../journal.js";
import { systemUndo } from "../system-undo.js";
import type { CommandRunner } from "../command.js";
import { fakeProc, recordingRunner, tempDir, type Script } from "../testing.js";

let dir: string;
let remove: () => Promise<void>;
beforeEach(async () => ({ dir, remove } = await tempDir()));
afterEach(() => remove());

const NRPT_LIST = readFileSync(
  new URL("./fixtures/windows-get-dnsclientnrptrule-manual-1.txt", import.meta.url),
  "utf8",
);

async function openJournal(
  script: Script = () => undefined,
): Promise<{ journal: Journal; calls: string[]; run: CommandRunner }> {
  const runner = recordingRunner(script);
  const journal = new Journal({
    path: join(dir, "state", "bhl0.json"),
    proc: fakeProc({ [process.pid]: { startTime: "1" } }),
    undo: systemUndo({ run: runner.run }),
    log: () => {},
  });
  await journal.recoverFromPreviousRun();
  return { journal, calls: runner.calls, run: runner.run };
}

test("macOS: a resolver file per domain, removed at undo; another program's file is left alone", async () => {
  const resolverDir = join(dir, "resolver");
  const { journal } = await openJournal();
  await writeResolverFiles(journal, ["p.test", "q.test"], ["198.18.0.2"], resolverDir);
  assert.match(await readFile(join(resolverDir, "p.test"), "utf8"), /^nameserver 198\.18\.0\.2$/m);
  assert.equal((await stat(join(resolverDir, "q.test"))).mode & 0o777, 0o644);
  await writeFile(join(resolverDir, "q.test"), "nameserver 198.18.9.9\n"); // a VPN took it over since
  const report = await journal.undoAll();
  assert.equal(report.undone.length, 1);
  assert.match(report.leftAlone[0]?.reason ?? "", /content changed/);
  await assert.rejects(stat(join(resolverDir, "p.test")), { code: "ENOENT" });
  assert.equal(await readFile(join(resolverDir, "q.test"), "utf8"), "nameserver 198.18.9.9\n");

  const again = await openJournal();
  await assert.rejects(
    writeResolverFiles(again.journal, ["q.test"], ["198.18.0.2"], resolverDir),
    /exists already \(another program's rule for q\.test\): backhaul leaves it alone/,
  );
  assert.deepEqual(again.journal.entries(), [], "nothing to undo for a file never written");
  await again.journal.undoAll();
});

test("Windows: each NRPT rule is journaled by its own comment first, and removed by it at undo", async () => {
  let comment = "";
  const { journal, calls, run } = await openJournal((command) => {
    const added = /-Comment '([^']+)'/.exec(command);
    if (added?.[1]) comment = added[1];
    // Get-DnsClientNrptRule: the recorded rule, with our comment on it.
    if (command.includes("Get-DnsClientNrptRule"))
      return { stdout: NRPT_LIST.replace(/^Comment\s+:.*$/m, `Comment : ${comment}`) };
    return undefined;
  });
  await addNrptRules(journal, ["p.test"], ["198.18.0.2"], run);
  const [entry] = journal.entries();
  assert.equal(entry?.kind, "nrpt-rule");
  assert.match(comment, /^backhaul --remote-dns-domain [0-9a-f]{16}$/);
  assert.deepEqual(
    journal.entries().map((e) => (e.kind === "nrpt-rule" ? e.comment : "")),
    [comment],
  );
  const report = await journal.undoAll();
  assert.equal(report.undone.length, 1, JSON.stringify(report));
  assert.match(
    calls.at(-1) ?? "",
    /Remove-DnsClientNrptRule -Name '\{BD0629C2-E6C0-48D6-A78E-D23DE63BC36B\}' -Force$/,
  );
  // Not ours (another comment), or gone: nothing is removed.
  const undo = systemUndo({ run: recordingRunner(() => ({ stdout: NRPT_LIST })).run });
  assert.deepEqual(await undo({ kind: "nrpt-rule", comment }), { status: "already-gone" });
});

test("macOS and Windows routes: deleted with the OS's command; one not in the table is already gone", async () => {
  const runner = recordingRunner((command) =>
    command.includes("198.18.71.0/24")
      ? { fails: "route: writing to routing socket: not in table" }
      : undefined,
  );
  const undo = systemUndo({ run: runner.run });
  assert.deepEqual(
    await undo({ kind: "platform-route", os: "darwin", prefix: "198.18.70.0/24", dev: "utun7" }),
    {
      status: "undone",
    },
  );
  assert.deepEqual(
    await undo({ kind: "platform-route", os: "darwin", prefix: "198.18.71.0/24", dev: "utun7" }),
    {
      status: "already-gone",
    },
  );
  assert.deepEqual(
    await undo({ kind: "platform-route", os: "win32", prefix: "198.18.70.0/24", dev: "Backhaul" }),
    {
      status: "undone",
    },
  );
  assert.deepEqual(runner.calls, [
    "route -n delete -inet 198.18.70.0/24 -interface utun7",
    "route -n delete -inet 198.18.71.0/24 -interface utun7",
    "powershell.exe -NoProfile -NonInteractive -Command Remove-NetRoute -DestinationPrefix '198.18.70.0/24' -InterfaceAlias 'Backhaul' -Confirm:$false",
  ]);
});
