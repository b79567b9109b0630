// Text that comes from the remote (agent logs, probe values, link ERROR/BYE reasons, SSH server
// messages) ends up in a terminal and in the UI. A terminal obeys escape sequences: OSC 52 writes
// the clipboard, others retitle the window, move the cursor or hide text; bidi overrides and
// invisible format characters make text read differently from what it is. So every such text
// passes through sanitiseRemoteText() once, where it enters this computer. No Node API here:
// the link protocol, which every process uses, calls it.

/** Longest text kept (in code points); the rest is cut and marked with an ellipsis. */
export const REMOTE_TEXT_LIMIT = 2000;

// ESC or its 8-bit C1 form, then: CSI (parameters, intermediates, final byte); OSC, DCS, SOS,
// PM, APC (a string up to BEL or ST, or to the end when unterminated); or any other escape (one
// or more intermediates, then a final byte).
const ESCAPE_SEQUENCE = new RegExp(
  [
    "(?:\\u001b\\[|\\u009b)[\\u0030-\\u003f]*[\\u0020-\\u002f]*[\\u0040-\\u007e]?",
    "(?:\\u001b[\\]PX^_]|[\\u0090\\u0098\\u009d\\u009e\\u009f])[^\\u0007\\u001b\\u009c]*(?:\\u0007|\\u001b\\\\|\\u009c)?",
    "\\u001b[\\u0020-\\u002f]*[\\u0030-\\u007e]?",
  ].join("|"),
  "g",
);
// Line breaks become spaces: a remote line must not start a line that looks like ours.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const LINE_BREAK = /[\n\r\u000b\u000c\u0085\u2028\u2029]/g;
// Every other C0 control but tab, DEL, and C1 controls.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/g;
// Invisible format characters, bidi overrides and isolates among them (U+202A–202E, U+2066–2069).
const FORMAT = /\p{Cf}/gu;

/** `text` safe to print: no escape sequences or controls (tab kept), format characters shown as U+FFFD, bounded. */
export function sanitiseRemoteText(text: string, limit = REMOTE_TEXT_LIMIT): string {
  const clean = text
    .replace(ESCAPE_SEQUENCE, "")
    .replace(LINE_BREAK, " ")
    .replace(CONTROL, "")
    .replace(FORMAT, "\uFFFD");
  const codePoints = Array.from(clean);
  return codePoints.length > limit ? `${codePoints.slice(0, limit).join("")}…` : clean;
}
