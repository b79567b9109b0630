/**
 * The FLOWS frame (link protocol revision 2): the agent's exit publishes its NAT table to this
 * computer as the deltas a FlowTable publishes, JSON text. This computer checks every field and
 * sanitises every text (they reach the terminal and the UI); a payload that does not fit is
 * dropped as malformed. Rows come back with direction "local-to-remote".
 *
 * This module runs in any process: it uses Buffer but no other Node API.
 */
import type { FlowProtocol, FlowRow, TableDelta } from "./flow-row.js";
import { LinkError } from "./link-protocol.js";
import { sanitiseRemoteText } from "./remote-text.js";

/** Most rows in one FLOWS frame; the agent sends at most this many upserts per frame. */
export const MAX_FLOWS_PER_FRAME = 1_000;
const isProtocol = (value: unknown): value is FlowProtocol =>
  value === "tcp" || value === "udp" || value === "icmp";
const SHORT_TEXT = 300;

export function encodeFlows(delta: TableDelta<FlowRow>): Buffer {
  return Buffer.from(JSON.stringify(delta), "utf8");
}

export function decodeFlows(payload: Buffer): TableDelta<FlowRow> {
  const bad = (problem: string): LinkError =>
    new LinkError("MALFORMED_PAYLOAD", `malformed FLOWS from the peer: ${sanitiseRemoteText(problem)}`);
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    throw bad("not JSON");
  }
  if (!isRecord(value) || !Array.isArray(value.upserts) || !Array.isArray(value.removals))
    throw bad("not {upserts, removals}");
  if (value.upserts.length + value.removals.length > MAX_FLOWS_PER_FRAME) throw bad("too many rows");
  const removals = value.removals.map((id, index) => {
    if (!isCount(id)) throw bad(`removals[${index}] is not a row id`);
    return id;
  });
  const upserts = value.upserts.map((row, index) =>
    parseRow(row, (problem) => bad(`upserts[${index}] ${problem}`)),
  );
  return { upserts, removals };
}

function parseRow(value: unknown, bad: (problem: string) => LinkError): FlowRow {
  if (!isRecord(value)) throw bad("is not an object");
  const count = (key: string): number => {
    const n = value[key];
    if (!isCount(n)) throw bad(`${key} is not a non-negative integer`);
    return n;
  };
  const text = (key: string): string => {
    const t = value[key];
    if (typeof t !== "string") throw bad(`${key} is not text`);
    return sanitiseRemoteText(t.slice(0, SHORT_TEXT));
  };
  const optionalText = (key: string): string | null => (value[key] === null ? null : text(key));
  const protocol = value.protocol;
  if (!isProtocol(protocol)) throw bad("protocol is not tcp, udp or icmp");
  const family = value.family;
  if (family !== 4 && family !== 6) throw bad("family is not 4 or 6");
  const closedAt = value.closedAt === null ? null : count("closedAt");
  return {
    id: count("id"),
    direction: "local-to-remote",
    protocol,
    family,
    remote: text("remote"),
    destination: text("destination"),
    // Rows of an agent from before names were kept carry none.
    name: value.name === undefined || value.name === null ? null : text("name"),
    localSocket: optionalText("localSocket"),
    state: text("state"),
    upBytes: count("upBytes"),
    downBytes: count("downBytes"),
    upPackets: count("upPackets"),
    downPackets: count("downPackets"),
    startedAt: count("startedAt"),
    lastActivityAt: count("lastActivityAt"),
    closedAt,
    closeReason: optionalText("closeReason"),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
