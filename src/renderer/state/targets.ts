/** The target picker's list: searched, recents first, then the rest by kind. */
import type { TargetKind, TargetList, TargetSummary } from "../../shared/api.js";

export interface TargetGroup {
  id: "recent" | TargetKind;
  title: string;
  targets: TargetSummary[];
}

const GROUPS: readonly { kind: TargetKind; title: string }[] = [
  { kind: "codespace", title: "Codespaces" },
  { kind: "ssh", title: "SSH hosts" },
  { kind: "exec", title: "Commands" },
  { kind: "sandbox", title: "Try it here" },
];

/**
 * Groups that hold at least one target matching every word of the query (in the label, detail,
 * id or a codespace's repository, branch, state or machine). A recent target is listed once,
 * under "Recent", in the order of `recents`.
 */
export function arrangeTargets(list: TargetList, query: string): TargetGroup[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const matches = (target: TargetSummary) => {
    const haystack = searchText(target);
    return words.every((word) => haystack.includes(word));
  };
  const byId = new Map(list.targets.map((target) => [target.id, target]));
  const recent: TargetSummary[] = [];
  for (const id of list.recents) {
    const target = byId.get(id);
    if (target && !recent.includes(target)) recent.push(target);
  }
  const groups: TargetGroup[] = [{ id: "recent", title: "Recent", targets: recent.filter(matches) }];
  for (const { kind, title } of GROUPS) {
    const targets = list.targets
      .filter((target) => target.kind === kind && !recent.includes(target) && matches(target))
      .sort((a, b) => a.label.localeCompare(b.label));
    groups.push({ id: kind, title, targets });
  }
  return groups.filter((group) => group.targets.length > 0);
}

function searchText(target: TargetSummary): string {
  const codespace = target.codespace;
  return [
    target.id,
    target.label,
    target.detail,
    codespace?.name,
    codespace?.repository,
    codespace?.branch,
    codespace?.state,
    codespace?.machine,
  ]
    .filter(Boolean)
    .join(" ")
    .toLowerCase();
}
