// Shared by the routes tests: recorded fixtures and a compact way to write expected entries.
import { readFileSync } from "node:fs";
import type { InterfaceMap, RouteEntry, RouteSource } from "./types.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);

export function fixture(path: string): string {
  return readFileSync(new URL(path, FIXTURES), "utf8");
}

export function fixtureInterfaces(path: string): InterfaceMap {
  return JSON.parse(fixture(path)) as InterfaceMap;
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
