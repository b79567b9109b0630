import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { LinkDnsConfig } from "../../../shared/link-protocol.js";
import type { DnsConfigurator } from "../../system/dns/configurator.js";
import type { DnsDetection } from "../../system/dns/detect.js";
import { ResolvConfConfigurator, type BeforeWrite } from "../../system/dns/resolv-conf.js";
import { Journal, type UndoAction } from "../../system/journal.js";
import type { ProcFs } from "../../system/process-identity.js";
import { systemUndo } from "../../system/system-undo.js";
import { fakeProc, tempDir } from "../../system/testing.js";
import type { JournalDocument } from "../../system/undo-entry.js";
import { until } from "../../../shared/test-until.js";
import { DnsSetup } from "./dns-setup.js";

// CRLF, a tab and bytes that are not UTF-8: every restore must give exactly these back.
const ORIGINAL = Buffer.concat([
  Buffer.from("# R's own\r\nsearch lab.test\r\nnameserver 198.18.5.2\r\noptions\tedns0\n# caf"),
  Buffer.from([0xe9, 0xff]),
]);
const ALL: LinkDnsConfig = { mode: "all", servers: ["198.18.0.2"] };
const SPLIT: LinkDnsConfig = { mode: "split", servers: ["198.18.0.2"], domains: ["corp.test", "vpn.test"] };
const OFF: LinkDnsConfig = { mode: "off" };
const ROUTE = { kind: "route", prefix: "198.19.0.0/16", dev: "bh-test" } as const;

let dir: string;
let remove: () => Promise<void>;
let resolvConf: string;
beforeEach(async () => {
  ({ dir, remove } = await tempDir());
  resolvConf = join(dir, "resolv.conf");
  await writeFile(resolvConf, ORIGINAL);
});
afterEach(() => remove());

/** Resolver entries undone for real (the temporary file); routes only counted, never `ip route del`. */
function undoAction(routesUndone: string[]): UndoAction {
  const system = systemUndo();
  return (entry) => {
    if (entry.kind !== "route") return system(entry);
    routesUndone.push(entry.prefix);
    return Promise.resolve({ status: "undone" });
  };
}

async function openJournal(
  path: string,
  routesUndone: string[],
  proc: ProcFs = fakeProc({ [process.pid]: { startTime: "1" } }),
): Promise<Journal> {
  const journal = new Journal({ path, proc, undo: undoAction(routesUndone), log: () => {} });
  await journal.recoverFromPreviousRun();
  return journal;
}

interface Harness {
  journal: Journal;
  setup: DnsSetup;
  lines: string[];
  routesUndone: string[];
  /** Each configurator made, with how often it was closed. */
  made: Array<{ configurator: DnsConfigurator; closed: number }>;
}

async function harness(beforeWrite?: BeforeWrite): Promise<Harness> {
  const routesUndone: string[] = [];
  const journal = await openJournal(join(dir, "state", "journal.json"), routesUndone);
  await journal.recordThenApply(ROUTE, () => Promise.resolve());
  const lines: string[] = [];
  const made: Harness["made"] = [];
  const detect = (): Promise<DnsDetection> => {
    const configurator = new ResolvConfConfigurator(resolvConf, beforeWrite, {
      address: "127.0.0.1",
      port: 0,
    });
    const record = { configurator, closed: 0 };
    const close = configurator.close.bind(configurator);
    configurator.close = () => {
      record.closed++;
      return close();
    };
    made.push(record);
    return Promise.resolve({ configurator, reason: "a plain file", warnings: [] });
  };
  const setup = new DnsSetup({ journal, detect, log: (line) => lines.push(line) });
  return { journal, setup, lines, routesUndone, made };
}

const kinds = (journal: Journal): string[] => journal.entries().map((entry) => entry.kind);
const nameservers = async (): Promise<string[]> =>
  (await readFile(resolvConf, "utf8")).match(/^nameserver .*$/gm) ?? [];

describe("DnsSetup: a change of mode while connected", () => {
  test("all → split → off → all: each mode as at a connect, off restores the file byte for byte, the route stays", async () => {
    const h = await harness();
    try {
      await h.setup.start(ALL);
      assert.deepEqual(await nameservers(), ["nameserver 198.18.0.2"]);

      await h.setup.configure(SPLIT);
      assert.equal(h.setup.current, "split");
      assert.deepEqual(await nameservers(), ["nameserver 127.0.0.1"], "the split forwarder");
      assert.match(await readFile(resolvConf, "utf8"), /the others to 198\.18\.5\.2, as before/);
      assert.deepEqual(kinds(h.journal), ["route", "resolv-conf"], "one resolver entry, the route kept");
      assert.ok(h.lines.includes("dns: now split, 2 domain(s) through the link"), h.lines.join("\n"));

      await h.setup.configure(OFF);
      assert.equal(h.setup.current, "off");
      assert.deepEqual(await readFile(resolvConf), ORIGINAL, "byte for byte, while connected");
      assert.deepEqual(kinds(h.journal), ["route"]);
      assert.equal(h.made[1]?.closed, 1, "split's forwarder is stopped");
      assert.ok(h.lines.includes("dns: now off, the remote's own resolver for every name"));

      await h.setup.configure(ALL);
      assert.deepEqual(await nameservers(), ["nameserver 198.18.0.2"]);
      assert.deepEqual(h.routesUndone, [], "no route was touched");
    } finally {
      await h.made.at(-1)?.configurator.close();
      await h.journal.undoAll();
    }
    assert.deepEqual(await readFile(resolvConf), ORIGINAL, "Ctrl+C restores it too");
    assert.deepEqual(h.routesUndone, [ROUTE.prefix]);
  });

  test("a CONFIG in the same mode only updates its domains; a second CONFIG waits for the first", async () => {
    const h = await harness();
    try {
      await h.setup.start(SPLIT);
      const order: string[] = [];
      const first = h.setup.configure({ ...ALL }).then(() => order.push(`first: ${h.setup.current}`));
      const second = h.setup
        .configure({ ...SPLIT, domains: ["corp.test"] })
        .then(() => order.push(`second: ${h.setup.current}`));
      await Promise.all([first, second]);
      assert.deepEqual(order, ["first: all", "second: split"]);
      const before = h.made.length;
      await h.setup.configure({ ...SPLIT, domains: ["corp.test", "new.test"] });
      assert.equal(h.made.length, before, "no new configurator for the same mode");
      assert.deepEqual(kinds(h.journal), ["route", "resolv-conf"]);
    } finally {
      await h.made.at(-1)?.configurator.close();
      await h.journal.undoAll();
    }
    assert.deepEqual(await readFile(resolvConf), ORIGINAL);
  });

  test("a mode that fails to apply leaves the resolver restored (off), logged, and the session's routes", async () => {
    let writes = 0;
    const h = await harness(() => {
      // The second mode's write fails, after its journal entry was made.
      if (++writes === 2) return Promise.reject(new Error("read-only file system"));
      return Promise.resolve();
    });
    try {
      await h.setup.start(ALL);
      await h.setup.configure(SPLIT);
      assert.equal(h.setup.current, "off");
      assert.deepEqual(await readFile(resolvConf), ORIGINAL);
      assert.deepEqual(kinds(h.journal), ["route"]);
      assert.ok(
        h.lines.some((line) =>
          /^dns: could not switch to split \(read-only file system\); now off/.test(line),
        ),
        h.lines.join("\n"),
      );
      assert.ok((h.made[1]?.closed ?? 0) >= 1, "the failed mode's forwarder is stopped");
      await h.setup.configure(ALL);
      assert.equal(h.setup.current, "all", "a later CONFIG still applies");
    } finally {
      await h.made.at(-1)?.configurator.close();
      await h.journal.undoAll();
    }
    assert.deepEqual(await readFile(resolvConf), ORIGINAL);
  });

  test("a crash after a mode change: the next agent start restores the ORIGINAL file byte for byte", async () => {
    const h = await harness();
    let atCrash: JournalDocument;
    try {
      await h.setup.start(ALL);
      await h.setup.configure(SPLIT);
      // The crash: nothing more runs; the journal file is what the next agent finds.
      atCrash = JSON.parse(await readFile(h.journal.path, "utf8")) as JournalDocument;
      await h.made.at(-1)?.configurator.close();
    } catch (error) {
      await h.journal.undoAll();
      throw error;
    }
    assert.notDeepEqual(await readFile(resolvConf), ORIGINAL);
    // The next agent, on a copy (this process still holds the first journal's lock).
    const next = join(dir, "next", "journal.json");
    await mkdir(join(next, ".."), { recursive: true, mode: 0o700 });
    await writeFile(next, JSON.stringify({ ...atCrash, owner: { ...atCrash.owner, startTime: "0" } }), {
      mode: 0o600,
    });
    const routesUndone: string[] = [];
    const recovered = await openJournal(next, routesUndone);
    assert.deepEqual(await readFile(resolvConf), ORIGINAL, "the remote's own file, not all mode's");
    assert.deepEqual(routesUndone, [ROUTE.prefix]);
    await recovered.undoAll();
    await h.journal.undoAll();
    assert.deepEqual(await readFile(resolvConf), ORIGINAL);
  });
});

describe("DnsSetup: what the agent reports of the resolver (agent.dnsSetup, agent.split.*)", () => {
  test("off → none; split → the forwarder, with its counts; all → resolv.conf without counts", async () => {
    const h = await harness();
    try {
      assert.equal(h.setup.setup, "none");
      assert.equal(h.setup.splitCounts, null);

      await h.setup.start(SPLIT);
      const forwarder = h.made[0]?.configurator.splitForwarder;
      assert.ok(forwarder, "split over a plain resolv.conf runs a forwarder");
      assert.equal(h.setup.setup, `resolv-conf-forwarder-${forwarder.udpRelay}`);
      assert.deepEqual(h.setup.splitCounts, {
        viaLink: 0,
        viaRemote: 0,
        unanswered: 0,
        refused: 0,
        overloaded: 0,
      });
      // Not even a DNS header: refused, by the native relay or the JavaScript one. Nothing leaves
      // this machine (a real name would go to a server).
      const port = (forwarder as unknown as { port: number }).port;
      const client = createSocket("udp4");
      try {
        client.send(Buffer.from([1, 2, 3, 4]), port, "127.0.0.1");
        await until(() => h.setup.splitCounts?.refused === 1, 5_000, "the refusal counted");
      } finally {
        client.close();
      }

      await h.setup.configure(ALL);
      assert.equal(h.setup.setup, "resolv-conf");
      assert.equal(h.setup.splitCounts, null, "no forwarder in all mode");
      await h.setup.configure(OFF);
      assert.equal(h.setup.setup, "none");
    } finally {
      await h.made.at(-1)?.configurator.close();
      await h.journal.undoAll();
    }
  });

  test("systemd-resolved routes names itself: its setup, and no counts", async () => {
    const journal = await openJournal(join(dir, "state", "journal.json"), []);
    const resolved: DnsConfigurator = {
      kind: "resolved",
      description: "sets DNS on bh-test through systemd-resolved (resolvectl)",
      apply: () => Promise.resolve(),
      update: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const setup = new DnsSetup({
      journal,
      detect: () => Promise.resolve({ configurator: resolved, reason: "resolved runs", warnings: [] }),
      log: () => undefined,
    });
    await setup.start(SPLIT);
    assert.equal(setup.setup, "systemd-resolved");
    assert.equal(setup.splitCounts, null);
    await journal.undoAll();
  });
});
