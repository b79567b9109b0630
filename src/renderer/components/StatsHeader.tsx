/** The connected session at a glance: uptime, throughput each way with a live chart, RTT, flows, entrance. */
import { useMemo, type ReactNode } from "react";
import { PROXY_ENV_HINT, type SessionView } from "../../shared/api.js";
import { chartPaths } from "../chart.js";
import { formatBytes, formatDuration, formatLatency, formatRate } from "../format.js";
import { useNow } from "../hooks.js";
import { MAX_SAMPLES, useSamplesStore } from "../state/samples-store.js";

const CHART_HEIGHT = 50;
const PREFIXES_SHOWN = 2;

export function StatsHeader({ session }: { session: SessionView }) {
  const samples = useSamplesStore((s) => s.samples);
  const now = useNow(1000);
  const latest = samples.at(-1);
  const uptime = session.connectedSince === null ? null : now - session.connectedSince;
  const shownPrefixes = session.advertised.slice(0, PREFIXES_SHOWN).join("  ");
  const morePrefixes = session.advertised.length - PREFIXES_SHOWN;

  return (
    <div className="stats" data-testid="stats">
      <Stat label="Uptime" testId="stat-uptime">
        {uptime === null ? "–" : formatDuration(uptime)}
      </Stat>
      <RateStat direction="up" label="↑ Up" moved="sent" bytes={latest?.upBytes} rate={latest?.upBps} />
      <RateStat
        direction="down"
        label="↓ Down"
        moved="received"
        bytes={latest?.downBytes}
        rate={latest?.downBps}
      />
      <div className="stat-chart">
        <ThroughputChart />
      </div>
      <Stat label="RTT" testId="stat-rtt">
        {latest?.rttMs != null ? formatLatency(latest.rttMs) : "–"}
      </Stat>
      <Stat label="Open flows" testId="stat-flows">
        {latest ? latest.openFlows.toLocaleString() : "–"}
      </Stat>
      {session.entrance !== null && (
        // The window lands on the NAT tab once connected: the Session tab has the proxy's line in full.
        <Stat
          label="Entrance"
          testId="stat-entrance"
          title={session.entrance === "proxy" ? `On the remote, run: ${PROXY_ENV_HINT}` : undefined}
        >
          {session.entrance === "proxy" ? "Proxy" : "TUN"}
        </Stat>
      )}
      <div className="stat stat-prefixes" title={session.advertised.join("\n")}>
        <span className="stat-label">Advertised</span>
        <span className="prefix-list" data-testid="stat-prefixes">
          {session.advertised.length === 0 ? "none" : shownPrefixes}
          {morePrefixes > 0 && <span className="muted"> +{morePrefixes} more</span>}
        </span>
      </div>
    </div>
  );
}

function Stat(props: {
  label: string;
  testId: string;
  className?: string;
  title?: string;
  children: ReactNode;
}) {
  return (
    <div className="stat" title={props.title}>
      <span className="stat-label">{props.label}</span>
      <span className={`stat-value ${props.className ?? ""}`} data-testid={props.testId}>
        {props.children}
      </span>
    </div>
  );
}

/** One direction's rate, with the bytes moved that way so far in its tooltip; a dash before the first sample. */
function RateStat(props: {
  direction: "up" | "down";
  label: string;
  moved: string;
  bytes: number | undefined;
  rate: number | undefined;
}) {
  const { bytes, rate } = props;
  return (
    <Stat
      label={props.label}
      testId={`stat-${props.direction}`}
      className={props.direction}
      title={bytes === undefined ? "" : `${formatBytes(bytes)} ${props.moved}`}
    >
      {rate === undefined ? "–" : formatRate(rate)}
    </Stat>
  );
}

function ThroughputChart() {
  const samples = useSamplesStore((s) => s.samples);
  const paths = useMemo(() => chartPaths(samples, MAX_SAMPLES, CHART_HEIGHT), [samples]);
  return (
    <div className="chart-box">
      <svg
        className="chart"
        data-testid="throughput-chart"
        viewBox={`0 0 ${MAX_SAMPLES - 1} ${CHART_HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label="Throughput over the last two minutes"
      >
        <line className="grid" x1="0" x2={MAX_SAMPLES - 1} y1={CHART_HEIGHT / 2} y2={CHART_HEIGHT / 2} />
        <path className="area-down" d={paths.downArea} />
        <path className="area-up" d={paths.upArea} />
        <path className="line-down" d={paths.down} />
        <path className="line-up" d={paths.up} />
      </svg>
      <span className="chart-scale">{formatRate(paths.ceiling)}</span>
    </div>
  );
}
