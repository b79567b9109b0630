// The entrance's side of link streams (wire format: src/shared/link-streams.ts, stream-frames.ts).
export {
  DEFAULT_STREAM_OPEN_TIMEOUT_MS,
  DEFAULT_STREAM_WINDOW_BYTES,
  LinkStreamOpener,
  describeStatus,
} from "./stream-opener.js";
export type { StreamOpenerCounters, StreamOpenerOptions } from "./stream-opener.js";
