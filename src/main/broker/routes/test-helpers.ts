// Shared by the routes tests: recorded fixtures and a compact way to write expected entries.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CidrError } from "../../../helper/engines/routes/errors.js";
import { interfaceRoutes } from "./interfaces.js";
import type { InterfaceMap, RouteEntry, RouteSource } from "../../../helper/engines/routes/types.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);

export function fixture(path: string): string {
  return readFileSync(new URL(path, FIXTURES), "utf8");
}

export function fixtureInterfaces(path: string): InterfaceMap {
  return JSON.parse(fixture(path)) as InterfaceMap;
}

/** What a recorded machine knows of its routes: its route tables, then its interfaces' subnets. */
export function recordedRoutes(interfacesFixture: string, ...tables: RouteEntry[][]): RouteEntry[] {
  return [...tables.flat(), ...interfaceRoutes(fixtureInterfaces(interfacesFixture))];
}

/** `run` throws a CidrError about `input` for `reason`, and its message quotes the input. */
export function assertCidrError(run: () => unknown, input: string, reason: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof CidrError, `expected a CidrError, got ${String(error)}`);
    assert.equal(error.input, input);
    assert.match(error.reason, reason);
    assert.ok(error.message.includes(JSON.stringify(input)), error.message);
    return true;
  });
}

/** An expected entry; the family follows from the prefix. */
export function route(
  prefix: string,
  iface: string | null,
  gateway: string | null = null,
  source: RouteSource = "route-table",
): RouteEntry {
  return { prefix, family: prefix.includes(":") ? 6 : 4, interface: iface, gateway, source };
}

/** 10.0.0.0/8 without 10.1.2.0/24: the covering complement, widest pieces, in address order. */
export const TEN_EIGHT_WITHOUT_10_1_2: readonly string[] = [
  "10.0.0.0/16",
  "10.1.0.0/23",
  "10.1.3.0/24",
  "10.1.4.0/22",
  "10.1.8.0/21",
  "10.1.16.0/20",
  "10.1.32.0/19",
  "10.1.64.0/18",
  "10.1.128.0/17",
  "10.2.0.0/15",
  "10.4.0.0/14",
  "10.8.0.0/13",
  "10.16.0.0/12",
  "10.32.0.0/11",
  "10.64.0.0/10",
  "10.128.0.0/9",
];
