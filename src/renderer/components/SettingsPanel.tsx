/** Settings: what to advertise, DNS, access to this computer, the entrance, the reverse direction, saved commands, start at login. Main validates. */
import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import type { SavedExecTarget, Settings } from "../../shared/api.js";
import { useController } from "../controller.js";
import { useSessionStore } from "../state/session-store.js";
import { ExecTargetsField } from "./ExecTargetsField.js";
import { parsePrefixLines, useSettingsStore } from "../state/settings-store.js";

interface Draft {
  routes: string;
  excludes: string;
  dns: Settings["dns"];
  /** One domain per line (or comma-separated), as the user types them. */
  dnsDomains: string;
  allowLocal: boolean;
  startAtLogin: boolean;
  execTargets: SavedExecTarget[];
  entrance: Settings["entrance"];
  /** The reverse direction, as typed: prefixes and domains one per line, the SOCKS [ADDR:]PORT or "". */
  remoteRoutes: string;
  remoteDnsDomains: string;
  socks: string;
}

const toDraft = (settings: Settings): Draft => ({
  routes: settings.routes.join("\n"),
  excludes: settings.excludes.join("\n"),
  dns: settings.dns,
  dnsDomains: settings.dnsDomains.join("\n"),
  allowLocal: settings.allowLocal,
  startAtLogin: settings.startAtLogin,
  execTargets: settings.execTargets,
  entrance: settings.entrance,
  remoteRoutes: settings.remoteRoutes.join("\n"),
  remoteDnsDomains: settings.remoteDnsDomains.join("\n"),
  socks: settings.socks ?? "",
});

interface Choice<Mode extends string> {
  mode: Mode;
  label: string;
  /** Said after the label, quieter. */
  hint?: string;
}

const DNS_CHOICES: readonly Choice<Settings["dns"]>[] = [
  {
    mode: "split",
    label: "Split",
    hint: "names under this computer’s domains (and the ones below) through this computer; the rest on the remote",
  },
  { mode: "all", label: "All", hint: "answer all of the remote’s lookups with this computer’s resolver" },
  { mode: "off", label: "Off" },
];

const ENTRANCE_CHOICES: readonly Choice<Settings["entrance"]>[] = [
  { mode: "auto", label: "Automatic", hint: "TUN when the remote has it and root or sudo, else the proxy" },
  { mode: "tun", label: "TUN", hint: "every program on the remote, needs root or sudo" },
  { mode: "proxy", label: "Proxy", hint: "programs that use proxy settings; no root needed" },
];

/** The draft's fields the user writes one entry a line. */
type LineListKey = "routes" | "excludes" | "dnsDomains" | "remoteRoutes" | "remoteDnsDomains";

export function SettingsPanel() {
  const controller = useController();
  const settings = useSettingsStore((s) => s.settings);
  const saving = useSettingsStore((s) => s.saving);
  const error = useSettingsStore((s) => s.error);
  const savedAt = useSettingsStore((s) => s.savedAt);
  const shell = useSessionStore((s) => s.info?.shell);
  const [draft, setDraft] = useState<Draft | null>(() => (settings ? toDraft(settings) : null));

  // Main's copy arrives after mount, and comes back canonical after a save.
  useEffect(() => {
    if (settings) setDraft(toDraft(settings));
  }, [settings]);

  if (!draft) return <div className="page muted">Loading settings…</div>;
  const update = (change: Partial<Draft>) => setDraft({ ...draft, ...change });
  /** One of the draft's one-entry-a-line lists; its test id is settings-<field, kebab-case>. */
  const lineList = (
    field: LineListKey,
    text: { label: string; hint: string; placeholder: string; rows?: number },
  ) => (
    <LineListField
      {...text}
      testId={`settings-${field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`}
      value={draft[field]}
      onChange={(value) => update({ [field]: value })}
    />
  );
  const dirty = settings !== null && JSON.stringify(toDraft(settings)) !== JSON.stringify(draft);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void controller.saveSettings({
      routes: parsePrefixLines(draft.routes),
      excludes: parsePrefixLines(draft.excludes),
      dns: draft.dns,
      dnsDomains: parsePrefixLines(draft.dnsDomains),
      allowLocal: draft.allowLocal,
      startAtLogin: draft.startAtLogin,
      execTargets: draft.execTargets,
      entrance: draft.entrance,
      remoteRoutes: parsePrefixLines(draft.remoteRoutes),
      remoteDnsDomains: parsePrefixLines(draft.remoteDnsDomains),
      socks: draft.socks.trim() === "" ? null : draft.socks.trim(),
    });
  };

  return (
    <div className="page">
      <form className="page-narrow" onSubmit={submit} data-testid="settings-form">
        <h2>Settings</h2>
        <p className="lede">
          Backhaul advertises this computer’s LAN and VPN routes to the remote. Extra and excluded routes, the
          DNS mode, split DNS domains and access to this computer apply to the running session within seconds;
          the entrance and the reverse direction apply at the next connect.
        </p>
        <div className="settings-grid">
          {lineList("routes", {
            label: "Extra routes",
            hint: "Also advertise these prefixes, one CIDR per line.",
            placeholder: "10.20.0.0/16\nfd00:1::/48",
          })}
          {lineList("excludes", {
            label: "Excluded prefixes",
            hint: "Never advertise these, even when this computer routes them.",
            placeholder: "192.168.1.0/24",
          })}
        </div>
        <ChoiceField
          name="dns"
          label="DNS"
          stacked
          choices={DNS_CHOICES}
          value={draft.dns}
          onChange={(dns) => update({ dns })}
        />
        {draft.dns === "split" &&
          lineList("dnsDomains", {
            label: "Split DNS domains",
            hint: "Besides this computer’s search and VPN domains, also resolve names under these through this computer, one per line. With none anywhere, every name goes through it.",
            placeholder: "corp.example\nlab.internal",
            rows: 3,
          })}
        <ChoiceField
          name="entrance"
          label="Entrance on the remote"
          hint="How the remote’s traffic enters the link; applies at the next connect."
          stacked
          choices={ENTRANCE_CHOICES}
          value={draft.entrance}
          onChange={(entrance) => update({ entrance })}
        />
        <CheckField
          testId="settings-allow-local"
          checked={draft.allowLocal}
          onChange={(allowLocal) => update({ allowLocal })}
        >
          <span>
            <span className="field-label">Allow access to this computer</span>
            <br />
            <span className="field-hint">
              Let the remote reach services on this computer itself (its loopback and own addresses). Off by
              default: the remote is the less trusted side. Turning it off while connected also ends the
              connections open to this computer.
            </span>
          </span>
        </CheckField>
        <div className="field" role="group" aria-label="The reverse direction" data-testid="settings-reverse">
          <span className="field-label">This computer reaches the remote’s networks</span>
          <span className="field-hint">
            The other way round: connections from this computer that leave from the remote. Applies at the
            next connect.
          </span>
          <div className="settings-grid">
            {lineList("remoteRoutes", {
              label: "Routes into the remote",
              hint: "Route these prefixes from this computer into the remote, one CIDR per line (asks to elevate).",
              placeholder: "172.20.0.0/16\n10.0.5.0/24",
            })}
            {lineList("remoteDnsDomains", {
              label: "Remote DNS domains",
              hint: "Names under these resolve on this computer with the remote’s resolver, one per line.",
              placeholder: "svc.cluster.local\ninternal.example",
            })}
          </div>
          <label className="field field-host">
            <span className="field-label">SOCKS port</span>
            <span className="field-hint">
              A SOCKS5 and HTTP proxy on this computer whose connections leave from the remote: a port
              (loopback), or ADDRESS:PORT. Empty: none. No elevation needed.
            </span>
            <input
              type="text"
              data-testid="settings-socks"
              placeholder="1080"
              spellCheck={false}
              value={draft.socks}
              onChange={(event) => update({ socks: event.target.value })}
            />
          </label>
        </div>
        <ExecTargetsField value={draft.execTargets} onChange={(execTargets) => update({ execTargets })} />
        {shell !== "browser" && (
          <CheckField
            testId="settings-start-at-login"
            checked={draft.startAtLogin}
            onChange={(startAtLogin) => update({ startAtLogin })}
          >
            <span className="field-label">Start Backhaul at login</span>
          </CheckField>
        )}
        {error && (
          <p className="form-error" data-testid="settings-error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button
            type="submit"
            className="btn primary"
            data-testid="settings-save"
            disabled={saving || !dirty}
          >
            {saving ? "Saving…" : "Save"}
          </button>
          {dirty && settings && (
            <button
              type="button"
              className="btn"
              data-testid="settings-revert"
              onClick={() => setDraft(toDraft(settings))}
            >
              Revert
            </button>
          )}
          {!dirty && savedAt !== null && !error && (
            <span className="form-ok" data-testid="settings-saved" role="status">
              Saved.
            </span>
          )}
        </div>
      </form>
    </div>
  );
}

/** A list of prefixes as the user types it, one CIDR per line. */
/** A list the user writes one entry a line: prefixes, domains. */
function LineListField(props: {
  label: string;
  hint: string;
  rows?: number;
  testId: string;
  placeholder: string;
  value: string;
  onChange(value: string): void;
}) {
  return (
    <label className="field">
      <span className="field-label">{props.label}</span>
      <span className="field-hint">{props.hint}</span>
      <textarea
        rows={props.rows ?? 6}
        data-testid={props.testId}
        placeholder={props.placeholder}
        spellCheck={false}
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </label>
  );
}

function CheckField(props: {
  testId: string;
  checked: boolean;
  onChange(checked: boolean): void;
  children: ReactNode;
}) {
  return (
    <label className="check">
      <input
        type="checkbox"
        data-testid={props.testId}
        checked={props.checked}
        onChange={(event) => props.onChange(event.target.checked)}
      />
      {props.children}
    </label>
  );
}

/** One setting picked from a few choices: a radio group whose test ids are settings-NAME-MODE. */
function ChoiceField<Mode extends string>(props: {
  name: string;
  label: string;
  hint?: string;
  stacked?: boolean;
  choices: readonly Choice<Mode>[];
  value: Mode;
  onChange: (mode: Mode) => void;
}) {
  return (
    <div className="field">
      <span className="field-label">{props.label}</span>
      {props.hint && <span className="field-hint">{props.hint}</span>}
      <div
        className={props.stacked ? "radio-group stacked" : "radio-group"}
        role="radiogroup"
        data-testid={`settings-${props.name}`}
      >
        {props.choices.map(({ mode, label, hint }) => (
          <label key={mode}>
            <input
              type="radio"
              name={props.name}
              value={mode}
              data-testid={`settings-${props.name}-${mode}`}
              checked={props.value === mode}
              onChange={() => props.onChange(mode)}
            />
            {hint === undefined ? (
              label
            ) : (
              <span>
                {label}: <span className="field-hint">{hint}</span>
              </span>
            )}
          </label>
        ))}
      </div>
    </div>
  );
}
