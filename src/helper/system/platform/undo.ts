// How the macOS and Windows entries of this computer's journal are undone (system-undo.ts calls
// these): each idempotent, what is gone counts as undone, and what is not ours is left alone.
import { errorText, type CommandRunner } from "../command.js";
import type { UndoOutcome } from "../journal.js";
import type { UndoEntry } from "../undo-entry.js";
import * as darwin from "./darwin.js";
import * as windows from "./windows.js";

/** Removes the rules that carry the comment the journal recorded (none: already gone). */
export async function removeNrptRule(comment: string, run: CommandRunner): Promise<UndoOutcome> {
  const list = windows.nrptListCommand();
  const ours = windows.parseNrptRules(await run(list.file, list.args)).filter((r) => r.comment === comment);
  if (ours.length === 0) return { status: "already-gone" };
  for (const rule of ours) {
    const remove = windows.nrptRemoveCommand(rule.name);
    await run(remove.file, remove.args);
  }
  return { status: "undone" };
}

export async function deletePlatformRoute(
  entry: Extract<UndoEntry, { kind: "platform-route" }>,
  run: CommandRunner,
): Promise<UndoOutcome> {
  const command =
    entry.os === "darwin"
      ? darwin.routeCommand("delete", entry.prefix, entry.dev)
      : windows.routeCommand("delete", entry.prefix, entry.dev);
  try {
    await run(command.file, command.args);
    return { status: "undone" };
  } catch (error) {
    // route(8): "not in table"; Remove-NetRoute: "No matching MSFT_NetRoute objects".
    if (darwin.isRouteGone(errorText(error)) || /No matching MSFT_NetRoute/.test(errorText(error)))
      return { status: "already-gone" };
    throw error;
  }
}
