import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parsePrefix, overlaps } from "../../helper/engines/routes/cidr.js";
import {
  DEFAULT_SUBNET_V4,
  DEFAULT_SUBNET_V6,
  LOCAL_SLOTS,
  localLinkSubnets,
  localSlotSubnets,
  type LocalSubnetOptions,
} from "./link-subnets.js";

let root: string;
let n = 0;
before(async () => void (root = await mkdtemp(join(tmpdir(), "backhaul-subnets-test-"))));
after(() => rm(root, { recursive: true, force: true }));

/** A fresh lease directory, and a computer with no addresses or routes unless `inUse` says. */
function options(inUse: readonly string[] = [], extra: Partial<LocalSubnetOptions> = {}): LocalSubnetOptions {
  return { leaseDir: join(root, `leases-${n++}`), inUse: () => Promise.resolve(inUse), ...extra };
}

test("no two slots overlap each other or the remote's default subnets", () => {
  const all = Array.from({ length: LOCAL_SLOTS }, (_, slot) => localSlotSubnets(slot));
  const prefixes = [DEFAULT_SUBNET_V4, DEFAULT_SUBNET_V6, ...all.flatMap((s) => [s.v4, s.v6 ?? ""])].map(
    (text) => parsePrefix(text),
  );
  for (let a = 0; a < prefixes.length; a++)
    for (let b = a + 1; b < prefixes.length; b++)
      assert.equal(overlaps(prefixes[a]!, prefixes[b]!), false, `${a} and ${b}`);
  assert.throws(() => localSlotSubnets(LOCAL_SLOTS), RangeError);
  assert.deepEqual(localSlotSubnets(0), { v4: "100.87.54.0/30", v6: "fd62:6b68:6c01::/64" }, "canonical");
  assert.deepEqual(localSlotSubnets(63), { v4: "100.87.54.252/30", v6: "fd62:6b68:6c01:3f::/64" });
});

test("two sessions in one process get different subnets; a released slot is taken again", async () => {
  const shared = options();
  const first = await localLinkSubnets("devbox", shared);
  const second = await localLinkSubnets("codespace", shared);
  assert.equal(first.slot, 0);
  assert.equal(second.slot, 1);
  assert.notEqual(first.subnets.v4, second.subnets.v4);
  assert.notEqual(first.subnets.v6, second.subnets.v6);
  const lease = JSON.parse(await readFile(join(shared.leaseDir!, "slot-0"), "utf8")) as unknown;
  assert.deepEqual(lease, { pid: process.pid, session: "devbox" });
  assert.equal((await stat(shared.leaseDir!)).mode & 0o777, 0o700);
  await first.release();
  await first.release(); // twice is harmless
  const third = await localLinkSubnets("third", shared);
  assert.equal(third.slot, 0, "the freed slot");
  await Promise.all([second.release(), third.release()]);
  assert.deepEqual(await readdir(shared.leaseDir!), []);
});

test("sessions asking at the same time all get different slots", async () => {
  const shared = options();
  const leases = await Promise.all(Array.from({ length: 12 }, (_, i) => localLinkSubnets(`s${i}`, shared)));
  assert.equal(new Set(leases.map((lease) => lease.slot)).size, 12);
});

test("a slot held by another live process is skipped; one left by a dead process is taken over", async () => {
  const shared = options();
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  await once(child, "spawn");
  try {
    await mkdir(shared.leaseDir!, { mode: 0o700 });
    await writeFile(join(shared.leaseDir!, "slot-0"), JSON.stringify({ pid: child.pid, session: "other" }));
    const lease = await localLinkSubnets("mine", shared);
    assert.equal(lease.slot, 1, "slot 0 belongs to a running process");
    child.kill("SIGKILL");
    await once(child, "exit");
    const next = await localLinkSubnets("next", shared);
    assert.equal(next.slot, 0, "its holder died: the slot is free again");
    const record = JSON.parse(await readFile(join(shared.leaseDir!, "slot-0"), "utf8")) as { pid: number };
    assert.equal(record.pid, process.pid);
  } finally {
    child.kill("SIGKILL");
  }
});

test("processes asking at once get different slots", async () => {
  const leaseDir = join(root, `leases-${n++}`);
  const module = new URL("./link-subnets.ts", import.meta.url).href;
  // Each takes a lease, says its slot, and holds it until its stdin closes.
  const script = [
    `const { localLinkSubnets } = await import(${JSON.stringify(module)});`,
    `const lease = await localLinkSubnets("p" + process.pid, { leaseDir: ${JSON.stringify(leaseDir)}, inUse: async () => [] });`,
    "process.stdout.write(`${lease.slot}\\n`);",
    "process.stdin.resume(); process.stdin.on('end', () => lease.release().then(() => process.exit(0)));",
  ].join("\n");
  const children = [0, 1, 2].map(() =>
    spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  try {
    const slots = await Promise.all(
      children.map(
        (child) =>
          new Promise<number>((resolve, reject) => {
            child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
            child.once("exit", (code) => reject(new Error(`a child exited (${code}) before taking a lease`)));
          }),
      ),
    );
    assert.equal(new Set(slots).size, 3, `slots ${slots.join(", ")}`);
    assert.deepEqual((await readdir(leaseDir)).sort(), slots.map((slot) => `slot-${slot}`).sort());
  } finally {
    for (const child of children) child.stdin.end();
    await Promise.all(children.map((child) => (child.exitCode === null ? once(child, "exit") : undefined)));
  }
  assert.deepEqual(await readdir(leaseDir), [], "each released its lease as it ended");
});

test("a slot overlapping this computer's addresses or a /16-or-longer route is skipped", async () => {
  // Slot 0's IPv4 is someone's address, slot 1's IPv6 a route; a default and a /10 do not count.
  const busy = [
    "100.87.54.1/32",
    "fd62:6b68:6c01:1::/64",
    "0.0.0.0/0",
    "::/0",
    "100.64.0.0/10",
    "not a prefix",
  ];
  const lease = await localLinkSubnets("s", options(busy));
  assert.equal(lease.slot, 2);
});

test("every slot taken (a LAN on 100.87.0.0/16): a clear error", async () => {
  const shared = options(["100.87.0.0/16"]);
  await assert.rejects(
    localLinkSubnets("s", shared),
    /every one of this computer's 64 link subnets is in use/,
  );
});

test("a lease directory another user could write to is refused", async () => {
  const shared = options();
  await mkdir(shared.leaseDir!);
  await chmod(shared.leaseDir!, 0o777);
  await assert.rejects(localLinkSubnets("s", shared), /is not a private directory/);
});
