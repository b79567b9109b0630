// The route watch against the real kernel: a namespace of its own, `ip monitor` as the default
// source of events, and routes added and removed the way a VPN does. A change must show in well
// under the safety poll (60 s): after 150 ms of settling, or 500 ms after the previous read. And
// the monitor must not outlive the process that started it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChildRpc } from "./netns/child-rpc.js";
import { NetnsLab, netnsSkipReason, runCommand } from "./netns/index.js";
import { skipSaying } from "./netns/preconditions.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Said {
  type: string;
  prefixes?: string[];
  at?: number;
  why?: string;
  message?: string;
}

test("a VPN's route is advertised within 2 s of appearing, and the monitor leaves with its process", async (t) => {
  const skip = netnsSkipReason();
  if (skip) return skipSaying(t, skip);
  const lab = new NetnsLab();
  t.after(() => lab.cleanup());
  const ns = await lab.createNamespace("rwatch");
  // veth pairs inside the namespace stand for the LAN and the VPN's tunnel (this kernel has no
  // dummy devices); both ends up, so the links have a carrier.
  const addLink = async (name: string): Promise<void> => {
    await ns.ip(["link", "add", name, "type", "veth", "peer", "name", `${name}-p`]);
    await ns.ip(["link", "set", `${name}-p`, "up"]);
    await ns.ip(["link", "set", name, "up"]);
  };
  await addLink("bh-lan");
  await ns.ip(["addr", "add", "198.18.60.1/24", "dev", "bh-lan"]);

  const watcher = ChildRpc.start<Record<never, never>, Said>(ns, "e2e/route-watch/watcher.ts", {
    name: "the watcher",
  });
  const said = watcher.events.all;
  /** The first `type` said at or after index `after` of `said`. */
  const next = (type: string, after: number, timeoutMs: number): Promise<Said> =>
    watcher.waitFor(
      `"${type}" at or after event ${after}`,
      (s) => (s.type === type && said.indexOf(s) >= after ? s : undefined),
      timeoutMs,
    );
  const ready = await next("ready", 0, 20_000);
  assert.deepEqual(ready.prefixes, ["198.18.60.0/24"]);

  // A VPN comes up: a tunnel-like device and a route into the corporate network.
  await addLink("bh-vpn");
  let mark = said.length;
  let started = Date.now();
  await ns.ip(["route", "add", "198.19.60.0/24", "dev", "bh-vpn"]);
  const up = await next("change", mark, 5_000);
  const upMs = (up.at ?? Date.now()) - started;
  assert.deepEqual(up.prefixes, ["198.18.60.0/24", "198.19.60.0/24"]);
  assert.ok(upMs < 2_000, `seen after ${upMs} ms; the safety poll alone would take up to 60 s`);

  // And goes down.
  mark = said.length;
  started = Date.now();
  await ns.ip(["link", "del", "bh-vpn"]);
  const down = await next("change", mark, 5_000);
  const downMs = (down.at ?? Date.now()) - started;
  assert.deepEqual(down.prefixes, ["198.18.60.0/24"]);
  assert.ok(downMs < 2_000, `seen after ${downMs} ms`);
  t.diagnostic(`route up seen in ${upMs} ms, down in ${downMs} ms`);
  assert.equal(
    said.some((s) => s.type === "lost" || s.type === "error"),
    false,
    JSON.stringify(said),
  );

  // Killed without a chance to stop anything: its monitor and sh still go.
  const pids = async (): Promise<string[]> =>
    (await runCommand("ip", ["netns", "pids", ns.name])).stdout.split(/\s+/).filter(Boolean);
  assert.ok((await pids()).length >= 2, "the watcher and its monitor run in the namespace");
  watcher.process.child.kill("SIGKILL");
  await watcher.waitForExit(5_000);
  const deadline = Date.now() + 5_000;
  while ((await pids()).length > 0 && Date.now() < deadline) await sleep(50);
  assert.deepEqual(await pids(), [], "nothing left in the namespace after the watcher was killed");
});
