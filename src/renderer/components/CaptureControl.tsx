/** "Record packets": the tunnel's packets into a pcapng file in Downloads, its size and where. */
import { useController } from "../controller.js";
import { formatBytes } from "../format.js";
import { useSessionStore } from "../state/session-store.js";

export function CaptureControl() {
  const controller = useController();
  const capture = useSessionStore((s) => s.capture);
  const shown = useSessionStore((s) => s.session.target?.label);
  // One capture at a time: the one running may be another session's, and says whose.
  const whose = capture.session !== undefined && capture.session !== shown ? ` (${capture.session})` : "";
  return (
    <div className="capture" data-testid="capture">
      <button
        type="button"
        className={capture.recording ? "btn danger" : "btn"}
        data-testid="capture-toggle"
        data-recording={capture.recording}
        onClick={() => void controller.toggleCapture()}
      >
        {capture.recording ? `Stop recording${whose}` : "Record packets"}
      </button>
      {capture.path !== null && (
        <p className="muted" data-testid="capture-status">
          {capture.recording ? `Recording${whose} to ` : `Saved${whose} in `}
          <code data-testid="capture-path">{capture.path}</code> ·{" "}
          <span data-testid="capture-size">{formatBytes(capture.bytes)}</span>
          {capture.message !== null && <span data-testid="capture-message"> · {capture.message}</span>}
        </p>
      )}
      {capture.path === null && (
        <p className="muted">
          Saves the tunnel&apos;s packets, both directions, for Wireshark or tcpdump (up to 200 MB).
        </p>
      )}
    </div>
  );
}
