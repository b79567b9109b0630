// Main's control connection to the built helper for one link, as the e2e labs and suites watch it:
// every event parsed, and a line over MAX_HELPER_LINE a failure, as main treats it.
import type { Socket } from "node:net";
import { splitLines } from "../../src/helper/local/line-socket.js";
import { attachHelperControl, type HelperEndpoint } from "../../src/main/broker/helper/helper-client.js";
import { MAX_HELPER_LINE, parseEvent, type HelperEvent } from "../../src/shared/helper-protocol.js";

/** Attaches to `linkId`'s control stream and hands each event, with its line's length, to `onEvent`. */
export async function watchHelperControl(
  endpoint: HelperEndpoint,
  linkId: string,
  onEvent: (event: HelperEvent, lineLength: number) => void,
): Promise<Socket> {
  const control = await attachHelperControl(endpoint, linkId);
  splitLines(
    control,
    MAX_HELPER_LINE,
    (line) => onEvent(parseEvent(line), line.length),
    () => {
      throw new Error("the helper sent a control line over MAX_HELPER_LINE");
    },
  );
  control.resume();
  return control;
}
