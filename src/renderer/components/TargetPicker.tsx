/** Pick what to connect to: codespaces, SSH hosts, saved commands, or this computer as a sandbox. */
import { useMemo } from "react";
import type { TargetSummary } from "../../shared/api.js";
import { useController } from "../controller.js";
import { formatAgo } from "../format.js";
import { useNow } from "../hooks.js";
import { arrangeTargets } from "../state/targets.js";
import { setTargetQuery, useTargetsStore } from "../state/targets-store.js";

const KIND_ICONS: Record<TargetSummary["kind"], string> = {
  codespace: "◆",
  ssh: "›_",
  exec: "$_",
  sandbox: "⌂",
};

export function TargetPicker({ busy }: { busy: boolean }) {
  const controller = useController();
  const list = useTargetsStore((s) => s.list);
  const loading = useTargetsStore((s) => s.loading);
  const error = useTargetsStore((s) => s.error);
  const query = useTargetsStore((s) => s.query);
  const groups = useMemo(() => (list ? arrangeTargets(list, query) : []), [list, query]);
  const now = useNow(30_000);

  return (
    <div className="picker">
      <h2>Connect to a remote machine</h2>
      <p className="lede">
        Pick where your code runs. Its programs will reach the networks this computer reaches: VPN, office
        LAN, services on this machine.
      </p>
      <div className="picker-head">
        <input
          type="search"
          className="target-search"
          data-testid="target-search"
          placeholder="Search codespaces, repositories, branches, SSH hosts…"
          aria-label="Search targets"
          value={query}
          autoFocus
          spellCheck={false}
          onChange={(event) => setTargetQuery(event.target.value)}
        />
        <button
          type="button"
          className="btn"
          data-testid="target-refresh"
          disabled={loading}
          onClick={() => void controller.refreshTargets()}
        >
          {loading ? "Refreshing…" : "Refresh"}
        </button>
      </div>
      {error && (
        <p className="warning" data-testid="target-error">
          Could not list targets: {error}
        </p>
      )}
      {list?.warnings.map((warning) => (
        <p className="warning" data-testid="target-warning" key={warning}>
          {warning}
        </p>
      ))}
      {list === null && !error && <div className="empty-state">Looking for codespaces and SSH hosts…</div>}
      {list !== null && groups.length === 0 && (
        <div className="empty-state" data-testid="target-empty">
          {query
            ? `Nothing matches “${query}”.`
            : "No targets found. Add a Host to ~/.ssh/config, or sign in to GitHub with `gh auth login` for codespaces."}
        </div>
      )}
      {groups.map((group) => (
        <section className="target-group" key={group.id} data-testid="target-group" data-group={group.id}>
          <h3>{group.title}</h3>
          <div className="target-list">
            {group.targets.map((target) => (
              <TargetItem
                key={target.id}
                target={target}
                now={now}
                disabled={busy}
                onPick={() => void controller.connect(target.id)}
              />
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}

function TargetItem(props: { target: TargetSummary; now: number; disabled: boolean; onPick(): void }) {
  const { target, now } = props;
  const codespace = target.codespace;
  return (
    <button
      type="button"
      className="target-item"
      data-testid="target-item"
      data-target-id={target.id}
      data-kind={target.kind}
      disabled={props.disabled}
      onClick={props.onPick}
    >
      <span className="target-icon" aria-hidden="true">
        {KIND_ICONS[target.kind]}
      </span>
      <span className="target-main">
        <span className="target-label">{target.label}</span>
        <span className="target-detail">
          {codespace ? (
            <>
              <span>{codespace.repository}</span>
              {codespace.branch && <span>⎇ {codespace.branch}</span>}
              {codespace.machine && <span>{codespace.machine}</span>}
            </>
          ) : (
            <span>{target.detail}</span>
          )}
        </span>
      </span>
      <span className="target-side">
        {target.lastUsedAt !== null && <span>used {formatAgo(now - target.lastUsedAt)}</span>}
        {codespace && (
          <span
            className={codespace.state === "Available" ? "pill ok" : "pill"}
            data-testid="codespace-state"
          >
            {codespace.state}
          </span>
        )}
      </span>
    </button>
  );
}
