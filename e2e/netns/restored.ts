// A namespace's network state as this computer's entrance changes it, and the check that an
// entrance's end (Ctrl+C, a crash and the next run's recovery) put it back.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { NetworkNamespace } from "./namespace.js";

export interface NetworkSnapshot {
  routes4: string;
  routes6: string;
  links: string;
  resolvConf: Buffer;
}

export interface SnapshotOptions {
  /** Leaves out link-local (fe80) lines: the kernel's own, which come late after a veth is up. */
  withoutLinkLocal?: boolean;
}

/** `ns`'s routes (both families, every table), its links and its resolv.conf, byte for byte. */
export async function networkSnapshot(
  ns: NetworkNamespace,
  options: SnapshotOptions = {},
): Promise<NetworkSnapshot> {
  const show = async (args: string[]): Promise<string> => {
    const { stdout } = await ns.ip(args);
    if (!options.withoutLinkLocal) return stdout;
    return stdout
      .split("\n")
      .filter((line) => !line.includes("fe80"))
      .join("\n");
  };
  return {
    routes4: await show(["-4", "route", "show", "table", "all"]),
    routes6: await show(["-6", "route", "show", "table", "all"]),
    links: await show(["link", "show"]),
    resolvConf: await readFile(`/etc/netns/${ns.name}/resolv.conf`),
  };
}

/** `ns` comes back to `before` within `withinMs` (polled every 200 ms); `log` explains a failure. */
export async function assertNetworkRestored(
  ns: NetworkNamespace,
  before: NetworkSnapshot,
  log: () => string,
  options: SnapshotOptions & { withinMs: number },
): Promise<void> {
  let after = await networkSnapshot(ns, options);
  for (let i = 0; i < options.withinMs / 200 && JSON.stringify(after) !== JSON.stringify(before); i++) {
    await sleep(200);
    after = await networkSnapshot(ns, options);
  }
  assert.equal(after.routes4, before.routes4, log());
  assert.equal(after.routes6, before.routes6, log());
  assert.equal(after.links, before.links, log());
  assert.deepEqual(after.resolvConf, before.resolvConf, `${ns.name}'s resolv.conf is restored byte for byte`);
}
