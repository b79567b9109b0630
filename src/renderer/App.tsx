import { useEffect } from "react";
import { loadAppInfo } from "./bridge.js";
import { useSessionStore } from "./state/session-store.js";

export function App() {
  const state = useSessionStore((s) => s.state);
  const info = useSessionStore((s) => s.info);
  const setInfo = useSessionStore((s) => s.setInfo);

  useEffect(() => {
    loadAppInfo().then(setInfo, () => undefined);
  }, [setInfo]);

  return (
    <main style={{ fontFamily: "system-ui, sans-serif", padding: 24 }}>
      <h1>Backhaul</h1>
      <p data-testid="session-state">State: {state}</p>
      <p data-testid="app-version">{info ? `Version ${info.version} on ${info.platform}` : "…"}</p>
    </main>
  );
}
