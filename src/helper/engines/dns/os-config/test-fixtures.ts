// Shared by the os-config tests (not a test file itself): the recorded OS outputs in fixtures/
// (SOURCES.md says where each comes from), and what a choice's servers look like in assertions.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { Upstream } from "../upstream.js";
import { chooseResolvers, type ResolverChoice } from "./choose-resolvers.js";
import type { OsDnsConfig } from "./os-dns-config.js";

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
}

/** "198.18.0.1", or "198.18.0.1#5353" off port 53. */
export function addresses(servers: readonly Upstream[]): string[] {
  return servers.map((server) => (server.port === 53 ? server.address : `${server.address}#${server.port}`));
}

export function chosen(choice: ResolverChoice): { servers: string[]; domain: string | null } {
  return { servers: addresses(choice.servers), domain: choice.domain };
}

/** `config` sends `name` to `servers`, chosen for `domain` (null: the default resolvers). */
export function assertChosen(
  config: OsDnsConfig,
  name: string,
  expected: { servers: string[]; domain: string | null },
  message?: string,
): void {
  assert.deepEqual(chosen(chooseResolvers(config, name)), expected, message);
}
