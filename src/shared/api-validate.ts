/**
 * Checks every request from the renderer before main acts on it. The renderer is a web page:
 * a compromised one must not be able to smuggle a wrong shape, a huge string or an option the
 * API does not have into the broker. Hand-written because the API is small and the checks are
 * the documentation of what each call accepts.
 */
import ipaddr from "ipaddr.js";
import type { RequestChannel, RequestOf, SavedExecTarget, Settings } from "./api.js";
import { isEntranceMode, isRequestChannel, MAX_EXEC_TARGETS } from "./api.js";
import { CommandLineError, parseCommandLine } from "./command-line.js";
import { formatNetwork, parsePrefix } from "./ip-prefix.js";
import { isDomainName, MAX_DNS_DOMAINS } from "./link-protocol.js";

export class ApiValidationError extends Error {
  override readonly name = "ApiValidationError";
}

const MAX_STRING = 1_024;
const MAX_PREFIXES = 256;

/** The payload, typed, or an ApiValidationError saying what is wrong with it. */
export function validateRequest<C extends RequestChannel>(channel: C, payload: unknown): RequestOf<C>;
export function validateRequest(channel: unknown, payload: unknown): unknown {
  if (!isRequestChannel(channel)) throw new ApiValidationError(`unknown channel ${describe(channel)}`);
  switch (channel) {
    case "app:info":
    case "targets:list":
    case "session:get":
    case "sessions:list":
    case "tables:snapshot":
    case "settings:get":
    case "capture:get":
    case "capture:stop":
      if (payload !== null && payload !== undefined)
        throw new ApiValidationError(`${channel} takes no payload`);
      return null;
    case "session:disconnect":
    case "capture:start": {
      if (payload === null || payload === undefined) return null;
      const o = record(payload, channel, ["targetId"]);
      return { targetId: text(o.targetId, "targetId", 1) };
    }
    case "session:connect": {
      const o = record(payload, channel, ["targetId"]);
      return { targetId: text(o.targetId, "targetId", 1) };
    }
    case "settings:set":
      return validateSettings(payload);
    case "diagnose:run": {
      const o = record(payload, channel, ["host", "port"]);
      const host = text(o.host, "host", 1).trim();
      if (!/^[A-Za-z0-9.:_-]+$/.test(host) && !ipaddr.isValid(host))
        throw new ApiValidationError(`host must be a host name or an IP address, not ${describe(host)}`);
      if (typeof o.port !== "number" || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535)
        throw new ApiValidationError(`port must be an integer from 1 to 65535, not ${describe(o.port)}`);
      return { host, port: o.port };
    }
    case "prompt:answer": {
      const o = record(payload, channel, ["id", "answer"]);
      const id = text(o.id, "id", 1);
      if (o.answer !== null && typeof o.answer !== "string")
        throw new ApiValidationError("answer must be a string or null");
      if (typeof o.answer === "string" && o.answer.length > MAX_STRING)
        throw new ApiValidationError("answer is too long");
      return { id, answer: o.answer };
    }
  }
}

export function validateSettings(payload: unknown): Settings {
  const o = record(payload, "settings", [
    "routes",
    "excludes",
    "dns",
    "dnsDomains",
    "allowLocal",
    "startAtLogin",
    "execTargets",
    "entrance",
  ]);
  if (o.dns !== "all" && o.dns !== "split" && o.dns !== "off")
    throw new ApiValidationError(`dns must be "split", "all" or "off"`);
  if (!isEntranceMode(o.entrance))
    throw new ApiValidationError(`entrance must be "auto", "tun" or "proxy", not ${describe(o.entrance)}`);
  return {
    routes: prefixes(o.routes, "routes"),
    excludes: prefixes(o.excludes, "excludes"),
    dns: o.dns,
    dnsDomains: domains(o.dnsDomains),
    allowLocal: flag(o.allowLocal, "allowLocal"),
    startAtLogin: flag(o.startAtLogin, "startAtLogin"),
    execTargets: execTargets(o.execTargets),
    entrance: o.entrance,
  };
}

/** Domain names, lower case, without a trailing dot, each once. */
function domains(value: unknown): string[] {
  if (!Array.isArray(value)) throw new ApiValidationError("dnsDomains must be a list");
  if (value.length > MAX_DNS_DOMAINS)
    throw new ApiValidationError(`dnsDomains holds at most ${MAX_DNS_DOMAINS} domains`);
  const names = value.map((entry: unknown) => {
    const name = text(entry, "a DNS domain", 1).trim();
    if (!isDomainName(name))
      throw new ApiValidationError(`${describe(name)} is not a domain like corp.example`);
    return name.toLowerCase().replace(/\.$/, "");
  });
  return [...new Set(names)];
}

/** Names are unique and never look like another kind of target; commands parse (command-line.ts). */
function execTargets(value: unknown): SavedExecTarget[] {
  if (!Array.isArray(value)) throw new ApiValidationError("execTargets must be a list");
  if (value.length > MAX_EXEC_TARGETS)
    throw new ApiValidationError(`execTargets holds at most ${MAX_EXEC_TARGETS} targets`);
  const names = new Set<string>();
  return value.map((entry: unknown) => {
    const o = record(entry, "an exec target", ["name", "command"]);
    const name = text(o.name, "an exec target's name", 1).trim();
    if (name === "" || /^(exec|codespace|ssh):/i.test(name) || name === "sandbox")
      throw new ApiValidationError(`an exec target cannot be named ${describe(name)}`);
    if (names.has(name)) throw new ApiValidationError(`two exec targets are named ${describe(name)}`);
    names.add(name);
    const command = text(o.command, `exec target ${name}'s command`, 1).trim();
    try {
      parseCommandLine(command);
    } catch (error) {
      if (error instanceof CommandLineError)
        throw new ApiValidationError(`exec target ${name}: ${error.message}`);
      throw error;
    }
    return { name, command };
  });
}

/** A CIDR prefix in canonical form ("10.1.0.0/16"), or null. */
export function canonicalPrefix(value: string): string | null {
  const parsed = parsePrefix(value.trim());
  return parsed.ok ? formatNetwork(parsed.prefix) : null;
}

function record(value: unknown, what: string, keys: string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ApiValidationError(`${what} takes an object`);
  const extra = Object.keys(value).filter((key) => !keys.includes(key));
  if (extra.length > 0) throw new ApiValidationError(`${what}: unknown field ${extra.join(", ")}`);
  const missing = keys.filter((key) => !(key in value));
  if (missing.length > 0) throw new ApiValidationError(`${what}: missing ${missing.join(", ")}`);
  return value as Record<string, unknown>;
}

function text(value: unknown, what: string, min: number): string {
  if (typeof value !== "string") throw new ApiValidationError(`${what} must be a string`);
  if (value.length < min || value.length > MAX_STRING)
    throw new ApiValidationError(`${what} must have ${min} to ${MAX_STRING} characters`);
  if ([...value].some((char) => char.charCodeAt(0) < 0x20))
    throw new ApiValidationError(`${what} has control characters`);
  return value;
}

function flag(value: unknown, what: string): boolean {
  if (typeof value !== "boolean") throw new ApiValidationError(`${what} must be true or false`);
  return value;
}

function prefixes(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_PREFIXES)
    throw new ApiValidationError(`${what} must be a list of at most ${MAX_PREFIXES} prefixes`);
  return value.map((item) => {
    const prefix = typeof item === "string" ? canonicalPrefix(item) : null;
    if (prefix === null) throw new ApiValidationError(`${what}: ${describe(item)} is not a CIDR prefix`);
    return prefix;
  });
}

function describe(value: unknown): string {
  const shown = JSON.stringify(value) ?? String(value);
  return shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
}
