/** "Can the remote reach …?": every check between the remote and a host, with its answer. */
import type { FormEvent } from "react";
import type { DiagnoseResult } from "../../shared/api.js";
import { useController } from "../controller.js";
import { formatLatency } from "../format.js";
import { useDiagnosticsStore } from "../state/diagnostics-store.js";

export function DiagnosticsPanel() {
  const controller = useController();
  const { host, port, running, result, error } = useDiagnosticsStore();
  const portNumber = Number(port);
  const portValid = Number.isInteger(portNumber) && portNumber >= 1 && portNumber <= 65535;
  const canRun = host.trim() !== "" && portValid && !running;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (canRun) void controller.diagnose({ host: host.trim(), port: portNumber });
  };

  return (
    <div className="page">
      <div className="page-narrow">
        <h2>Can the remote reach …?</h2>
        <p className="lede">
          For “connected, but nothing works”: checks a host from both ends. On the remote, asked of its agent:
          its resolver’s answer, whether it routes the address into the tunnel (and why not), and a real TCP
          connect through it. On this computer: the DNS answer, the advertised prefix, the interface it leaves
          through, the access policy, and a real TCP connect from here.
        </p>
        <form className="form-row" onSubmit={submit}>
          <label className="field field-host">
            <span className="field-label">Host name or address</span>
            <input
              type="text"
              data-testid="diag-host"
              placeholder="db.corp.example or 10.1.2.3"
              value={host}
              spellCheck={false}
              autoCapitalize="off"
              onChange={(event) => useDiagnosticsStore.setState({ host: event.target.value })}
            />
          </label>
          <label className="field field-port">
            <span className="field-label">TCP port</span>
            <input
              type="number"
              min={1}
              max={65535}
              data-testid="diag-port"
              value={port}
              onChange={(event) => useDiagnosticsStore.setState({ port: event.target.value })}
            />
          </label>
          <button type="submit" className="btn primary" data-testid="diag-run" disabled={!canRun}>
            {running ? "Checking…" : "Check"}
          </button>
        </form>
        {!portValid && port !== "" && <p className="error-text">The port is a number from 1 to 65535.</p>}
        {error && (
          <p className="form-error" data-testid="diag-error">
            {error}
          </p>
        )}
        {result && <DiagnoseReport result={result} />}
      </div>
    </div>
  );
}

function DiagnoseReport({ result }: { result: DiagnoseResult }) {
  const reachable = result.verdict === "reachable";
  return (
    <div className="diag-result" data-testid="diag-result">
      <div
        className="diag-summary"
        data-verdict={reachable ? "ok" : "bad"}
        data-verdict-code={result.verdict}
        data-testid="diag-summary"
      >
        <span className={reachable ? "verdict-ok" : "verdict-bad"} aria-hidden="true">
          {reachable ? "✓" : "✗"}
        </span>
        <span>{result.summary}</span>
      </div>
      <h3 className="diag-side">This computer</h3>
      <dl className="diag-fields">
        <dt>Host</dt>
        <dd data-testid="diag-field-host">{result.host}</dd>

        <dt>DNS answer</dt>
        <dd data-testid="diag-field-dns">
          {result.dns === null
            ? "not asked (an address)"
            : result.dns.error !== null
              ? `${result.dns.error} (${formatLatency(result.dns.latencyMs)})`
              : `${result.dns.addresses.join(", ") || "no addresses"} (${formatLatency(result.dns.latencyMs)})`}
        </dd>

        <dt>Address checked</dt>
        <dd data-testid="diag-field-address">{result.address ?? "none: the name did not resolve"}</dd>

        <dt>Advertised prefix</dt>
        <dd data-testid="diag-field-prefix">
          {result.prefix ?? <span className="verdict-bad">none: the remote would not route it here</span>}
        </dd>

        <dt>Leaves this computer via</dt>
        <dd data-testid="diag-field-route">
          {result.route === null
            ? "no route"
            : `${result.route.interface ?? "unknown interface"}${result.route.gateway ? ` via gateway ${result.route.gateway}` : " (directly connected)"}`}
        </dd>

        <dt>Access policy</dt>
        <dd data-testid="diag-field-policy">
          {result.policy.allowed ? (
            <span className="verdict-ok">allowed</span>
          ) : (
            <span className="verdict-bad">
              refused{result.policy.reason ? `: ${result.policy.reason}` : ""}
            </span>
          )}
        </dd>

        <dt>TCP connect</dt>
        <dd data-testid="diag-field-connect">
          <ConnectOutcome connect={result.connect} />
        </dd>
      </dl>
      <h3 className="diag-side">The remote</h3>
      <RemoteReport result={result} />
    </div>
  );
}

/** The remote's side, as its agent answered over the link. */
function RemoteReport({ result }: { result: DiagnoseResult }) {
  const remote = result.remote;
  if (remote === null)
    return (
      <p className="lede" data-testid="diag-remote-none">
        Not checked{result.remoteError ? `: ${result.remoteError}` : ""}.
      </p>
    );
  const route = remote.route;
  return (
    <dl className="diag-fields" data-testid="diag-remote">
      <dt>Entrance</dt>
      <dd>{remote.entrance === "tun" ? "TUN device" : "proxy on its loopback"}</dd>

      {remote.dns !== null && (
        <>
          <dt>Its DNS answer</dt>
          <dd data-testid="diag-remote-dns">
            {remote.dns.error ?? (remote.dns.addresses.join(", ") || "no addresses")} (
            {remote.dns.viaStub
              ? "through Backhaul’s stub"
              : `its own resolver${remote.dns.servers.length > 0 ? ` ${remote.dns.servers.join(", ")}` : ""}`}
            , {formatLatency(remote.dns.latencyMs)})
          </dd>
        </>
      )}

      <dt>Its route</dt>
      <dd data-testid="diag-remote-route">
        {route === null ? (
          "not asked"
        ) : route.viaTunnel ? (
          <span className="verdict-ok">
            into the tunnel ({route.dev}
            {route.tunnelPrefix ? `, ${route.tunnelPrefix}` : ""})
          </span>
        ) : (
          <span className="verdict-bad">
            {route.error ??
              `via ${route.dev ?? "no device"}${route.gateway ? ` and ${route.gateway}` : ""}, not the tunnel`}
            {route.ownRoute ? ` — its own ${route.ownRoute.description}` : ""}
            {route.skipped ? ` — ${route.skipped.message}` : ""}
          </span>
        )}
      </dd>

      <dt>Its TCP connect</dt>
      <dd data-testid="diag-remote-connect">
        <ConnectOutcome connect={remote.connect} />
      </dd>
      {remote.error !== null && (
        <>
          <dt>Error</dt>
          <dd>{remote.error}</dd>
        </>
      )}
    </dl>
  );
}

/** A TCP connect's outcome, this computer's or the remote's: latency, and why it failed. */
function ConnectOutcome({ connect }: { connect: DiagnoseResult["connect"] }) {
  return connect === null ? (
    "not tried"
  ) : connect.ok ? (
    <span className="verdict-ok">connected in {formatLatency(connect.latencyMs)}</span>
  ) : (
    <span className="verdict-bad">
      failed after {formatLatency(connect.latencyMs)}
      {connect.error ? `: ${connect.error}` : ""}
    </span>
  );
}
