import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { DnsUnsupportedError } from "../errors.js";
import { Journal } from "../journal.js";
import { systemUndo } from "../system-undo.js";
import { fakeProc, tempDir } from "../testing.js";
import {
  remoteServersOf,
  renderResolvConf,
  ResolvConfConfigurator,
  type SplitListen,
} from "./resolv-conf.js";

// CRLF, a tab, no final newline and bytes that are not UTF-8: restored exactly all the same.
const ORIGINAL = Buffer.concat([
  Buffer.from("# managed by hand\r\nsearch corp.test lab.test\r\nnameserver 198.18.7.53\r\n"),
  Buffer.from("options\tedns0 trust-ad\nnameserver 2001:db8:7::53\n# caf"),
  Buffer.from([0xe9, 0xff]),
]);
const STUB = { mode: "all" as const, servers: ["198.18.0.2"] };

let dir: string;
let remove: () => Promise<void>;
beforeEach(async () => ({ dir, remove } = await tempDir()));
afterEach(() => remove());

async function openJournal(beforeWrite?: (path: string) => Promise<void>): Promise<Journal> {
  const journal = new Journal({
    path: join(dir, "state", "journal.json"),
    proc: fakeProc({ [process.pid]: { startTime: "1" } }),
    undo: systemUndo({ beforeResolvConfWrite: beforeWrite }),
    log: () => {},
  });
  await journal.recoverFromPreviousRun();
  return journal;
}

describe("renderResolvConf", () => {
  test("our servers replace the others; search, domain, options and sortlist lines stay", () => {
    const text =
      "domain corp.test\nnameserver 10.0.0.1\n  search a.test\noptions ndots:2\nsortlist 10.0.0.0\n# x\n";
    assert.equal(
      renderResolvConf(text, ["198.18.0.2", "2001:db8:1::2", "198.18.0.3", "198.18.0.4"]),
      [
        "# Written by backhaul: names are resolved through the link to your computer.",
        "# The original file is restored when backhaul stops.",
        "nameserver 198.18.0.2",
        "nameserver 2001:db8:1::2",
        "nameserver 198.18.0.3",
        "domain corp.test",
        "  search a.test",
        "options ndots:2",
        "sortlist 10.0.0.0",
        "",
      ].join("\n"),
    );
  });
});

describe("ResolvConfConfigurator", () => {
  test("rewrites the file in place and restores the original byte for byte", async () => {
    const path = join(dir, "resolv.conf");
    await writeFile(path, ORIGINAL);
    const inode = (await stat(path)).ino;
    const journal = await openJournal();
    await new ResolvConfConfigurator(path).apply(STUB, journal);
    const written = await readFile(path, "utf8");
    assert.match(written, /^nameserver 198\.18\.0\.2$/m);
    assert.doesNotMatch(written, /198\.18\.7\.53|2001:db8:7::53/);
    assert.match(written, /^search corp\.test lab\.test\r?$/m);
    assert.equal((await stat(path)).ino, inode, "same inode: written in place, not renamed");
    const report = await journal.undoAll();
    assert.equal(report.undone.length, 1);
    assert.deepEqual(await readFile(path), ORIGINAL);
    assert.equal((await stat(path)).ino, inode);
  });

  test("asks beforeWrite before every write, and a refusal stops the write", async () => {
    const path = join(dir, "resolv.conf");
    await writeFile(path, ORIGINAL);
    const asked: string[] = [];
    let allow = true;
    const guard = (target: string): Promise<void> => {
      asked.push(target);
      return allow ? Promise.resolve() : Promise.reject(new Error("not the namespace's file"));
    };
    const journal = await openJournal(guard);
    await new ResolvConfConfigurator(path, guard).apply(STUB, journal);
    allow = false;
    const report = await journal.undoAll();
    assert.deepEqual(asked, [path, path]);
    assert.match(report.failed[0]?.error.message ?? "", /not the namespace's file/);
    assert.notDeepEqual(await readFile(path), ORIGINAL, "nothing written when the guard refuses");
  });

  test("leaves a file someone else changed since; restores one a crash left empty", async () => {
    const path = join(dir, "resolv.conf");
    for (const [later, expected, status] of [
      ["nameserver 198.18.9.9\n", "nameserver 198.18.9.9\n", "leftAlone"],
      ["", ORIGINAL.toString("latin1"), "undone"],
    ] as const) {
      await writeFile(path, ORIGINAL);
      const journal = await openJournal();
      await new ResolvConfConfigurator(path).apply(STUB, journal);
      await writeFile(path, later);
      const report = await journal.undoAll();
      assert.equal(report[status].length, 1, status);
      assert.equal((await readFile(path)).toString("latin1"), expected);
    }
  });

  test("a missing file is created and removed again; a second undo finds nothing to do", async () => {
    const path = join(dir, "resolv.conf");
    const journal = await openJournal();
    await new ResolvConfConfigurator(path).apply(STUB, journal);
    assert.match(await readFile(path, "utf8"), /nameserver 198\.18\.0\.2/);
    const [entry] = journal.entries();
    await journal.undoAll();
    await assert.rejects(stat(path), { code: "ENOENT" });
    const again = await systemUndo()(entry!);
    assert.deepEqual(again, { status: "already-gone" });
  });

  /** A split-DNS apply refused with `refusal` before anything changes: no journal entry, the file as it was. */
  async function assertSplitRefused(splitListen: SplitListen | undefined, refusal: RegExp): Promise<void> {
    const path = join(dir, "resolv.conf");
    await writeFile(path, ORIGINAL);
    const journal = await openJournal();
    await assert.rejects(
      new ResolvConfConfigurator(path, undefined, splitListen).apply(
        { mode: "split", servers: ["198.18.0.2"], domains: ["corp.test"] },
        journal,
      ),
      (error: unknown) => error instanceof DnsUnsupportedError && refusal.test(error.message),
    );
    assert.deepEqual(journal.entries(), []);
    assert.deepEqual(await readFile(path), ORIGINAL);
    await journal.undoAll();
  }

  test("split DNS without a forwarder address is refused with what to do instead, before anything changes", () =>
    assertSplitRefused(undefined, /"all" or "off"/));

  test("split DNS whose forwarder cannot have its port says so, and leaves the file as it was", async () => {
    const holder = createSocket("udp4");
    await new Promise<void>((resolve) => holder.bind(0, "127.0.0.1", resolve));
    try {
      const port = holder.address().port;
      await assertSplitRefused({ address: "127.0.0.1", port }, new RegExp(`port ${port} on 127\\.0\\.0\\.1`));
    } finally {
      holder.close();
    }
  });

  test("split DNS: the file names the forwarder, which answers for the original servers; restored byte for byte", async () => {
    const path = join(dir, "resolv.conf");
    await writeFile(path, ORIGINAL);
    const journal = await openJournal();
    const configurator = new ResolvConfConfigurator(path, undefined, { address: "127.0.0.1", port: 0 });
    try {
      await configurator.apply({ mode: "split", servers: ["198.18.0.2"], domains: ["corp.test"] }, journal);
      const written = await readFile(path, "utf8");
      assert.deepEqual(written.match(/^nameserver .*$/gm), ["nameserver 127.0.0.1"], "only the forwarder");
      assert.match(written, /the others to 198\.18\.7\.53, 2001:db8:7::53, as before/);
      assert.match(written, /^search corp\.test lab\.test\r?$/m);
      assert.match(configurator.description, /split DNS forwarder on 127\.0\.0\.1/);
    } finally {
      await configurator.close();
    }
    await journal.undoAll();
    assert.deepEqual(await readFile(path), ORIGINAL);
  });
});

describe("remoteServersOf", () => {
  test("the file's servers but ours; none at all means glibc's 127.0.0.1", () => {
    assert.deepEqual(
      remoteServersOf("nameserver 198.18.0.1\nnameserver 198.18.5.2 # R's\nnameserver ::1\n", ["198.18.0.1"]),
      [
        { address: "198.18.5.2", port: 53 },
        { address: "::1", port: 53 },
      ],
    );
    assert.deepEqual(remoteServersOf("search corp.test\n", []), [{ address: "127.0.0.1", port: 53 }]);
  });
});
