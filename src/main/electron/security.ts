/**
 * The window's security decisions as pure functions (tested in security.test.ts); window.ts and
 * ipc.ts apply them. The renderer shows web content and is treated as untrusted: it may only call
 * the API from the app's own page, load nothing from elsewhere, and navigate nowhere.
 */
import { pathToFileURL } from "node:url";

/**
 * The renderer's policy, sent as a header on top of the meta tag in index.html (a page gets the
 * intersection of both). IPC is the only way out, so the page needs no network at all.
 */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

export type ResponseHeaders = Record<string, string[] | string>;

/** The response headers with our Content-Security-Policy in place of any the response carried. */
export function withContentSecurityPolicy(headers: ResponseHeaders | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === "content-security-policy") continue;
    out[name] = Array.isArray(value) ? value : [value];
  }
  out["Content-Security-Policy"] = [RENDERER_CSP];
  return out;
}

/**
 * The headers a response should get: documents get our policy; other resources, and the DevTools'
 * own pages, keep theirs (undefined: leave the response alone).
 */
export function policyHeadersFor(details: {
  url: string;
  resourceType: string;
  responseHeaders?: ResponseHeaders;
}): Record<string, string[]> | undefined {
  if (details.resourceType !== "mainFrame" && details.resourceType !== "subFrame") return undefined;
  if (details.url.startsWith("devtools:")) return undefined;
  return withContentSecurityPolicy(details.responseHeaders);
}

/** The file:// URL the window loads: dist/renderer/index.html (inside app.asar when packaged). */
export function rendererUrl(rendererIndexPath: string): string {
  return pathToFileURL(rendererIndexPath).href;
}

/** What ipc.ts knows of the frame that sent a call: Electron's WebFrameMain, narrowed. */
export interface SenderFrame {
  url: string;
  /** null for a top-level frame. */
  parent: unknown;
}

/**
 * Whether an IPC call comes from the app's own page: the top frame of a window showing the bundled
 * renderer. An iframe, a page the window was somehow navigated to, or a destroyed frame is refused.
 */
export function isTrustedSender(
  frame: SenderFrame | null | undefined,
  expectedUrl: string,
  platform: NodeJS.Platform,
): boolean {
  if (!frame || frame.parent !== null) return false;
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return false;
  }
  if (url.protocol !== "file:" || url.host !== "") return false;
  url.hash = "";
  url.search = "";
  // Windows paths are case-insensitive, and drive letters come back in either case.
  return platform === "win32"
    ? url.href.toLowerCase() === expectedUrl.toLowerCase()
    : url.href === expectedUrl;
}

/** A link the page asked to open in a new window: only https goes to the user's browser. */
export function externalLinkFor(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" && parsed.username === "" && parsed.password === ""
      ? parsed.href
      : null;
  } catch {
    return null;
  }
}
