/**
 * "Start at login" on each OS. Electron's app.setLoginItemSettings covers macOS and Windows; on
 * Linux it does nothing, so the app writes an XDG autostart entry itself. Started at login, the app
 * opens in the tray only (`--hidden`); macOS reports a login launch through wasOpenedAtLogin.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const HIDDEN_FLAG = "--hidden";
const AUTOSTART_FILE = "dev.backhaul.app.desktop";

export interface LoginItemContext {
  platform: NodeJS.Platform;
  isPackaged: boolean;
  /** process.execPath: the app, or the Electron binary in development. */
  execPath: string;
  /** The app directory Electron was started with in development (not used when packaged). */
  appPath: string;
  /** $APPIMAGE: an AppImage's execPath is inside its temporary mount, this path is stable. */
  appImage: string | undefined;
  home: string;
  xdgConfigHome: string | undefined;
}

export type LoginItemPlan =
  | { kind: "electron"; settings: { openAtLogin: boolean; path?: string; args?: string[] } }
  | { kind: "autostart-file"; path: string; content: string | null }
  | { kind: "unsupported"; reason: string };

export function loginItemPlan(context: LoginItemContext, enabled: boolean): LoginItemPlan {
  const command = context.isPackaged ? [] : [context.appPath];
  switch (context.platform) {
    case "darwin":
      return { kind: "electron", settings: { openAtLogin: enabled } };
    case "win32":
      return {
        kind: "electron",
        settings: {
          openAtLogin: enabled,
          path: context.execPath,
          // Electron joins these into a command line as they are: paths need their quotes.
          args: [...command.map((arg) => `"${arg}"`), HIDDEN_FLAG],
        },
      };
    case "linux":
    case "freebsd":
    case "openbsd": {
      const config = context.xdgConfigHome?.startsWith("/")
        ? context.xdgConfigHome
        : join(context.home, ".config");
      const path = join(config, "autostart", AUTOSTART_FILE);
      if (!enabled) return { kind: "autostart-file", path, content: null };
      const exec = [context.appImage ?? context.execPath, ...command, HIDDEN_FLAG];
      return { kind: "autostart-file", path, content: desktopEntry(exec) };
    }
    default:
      return { kind: "unsupported", reason: `starting at login is not supported on ${context.platform}` };
  }
}

/** Writes or removes the autostart entry of a plan. */
export function applyAutostartFile(plan: { path: string; content: string | null }): void {
  if (plan.content === null) {
    rmSync(plan.path, { force: true });
    return;
  }
  mkdirSync(dirname(plan.path), { recursive: true });
  writeFileSync(plan.path, plan.content, { mode: 0o644 });
}

/** Whether this launch should stay in the tray without opening the window. */
export function startsHidden(argv: readonly string[], wasOpenedAtLogin: boolean): boolean {
  return argv.includes(HIDDEN_FLAG) || wasOpenedAtLogin;
}

function desktopEntry(exec: string[]): string {
  return [
    "[Desktop Entry]",
    "Type=Application",
    "Name=Backhaul",
    "Comment=Let a remote development machine reach your networks",
    `Exec=${exec.map(desktopExecArg).join(" ")}`,
    "Icon=backhaul",
    "Terminal=false",
    "X-GNOME-Autostart-enabled=true",
    "",
  ].join("\n");
}

/**
 * One argument of an Exec key (Desktop Entry Specification): quoted when it holds a reserved
 * character, with `"`, `` ` ``, `$` and `\` escaped inside the quotes; then the string-value escape
 * doubles every backslash again, and `%` (field codes) is doubled.
 */
export function desktopExecArg(arg: string): string {
  if (/[\n\r]/.test(arg))
    throw new Error(`cannot put a line break in an autostart entry: ${JSON.stringify(arg)}`);
  const quoted = /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/["`$\\]/g, "\\$&")}"`;
  return quoted.replace(/\\/g, "\\\\").replace(/%/g, "%%");
}
