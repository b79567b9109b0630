/**
 * The tray icon: its image, tooltip and menu follow the sessions. The menu is described by
 * tray-menu.ts and rebuilt on every change, and again when its uptime or countdown ticks.
 */
import { Menu, nativeImage, Tray, type NativeImage } from "electron";
import { join } from "node:path";
import type { SessionView, TargetSummary } from "../../shared/api.js";
import { menuTemplate } from "./menu-template.js";
import { nextMenuRefreshMsOf, trayIconFor, trayMenu, trayPhase, type TrayAction } from "./tray-menu.js";

export interface TrayState {
  /** The latest session started. */
  session: SessionView;
  /** Every session the app holds. */
  sessions: SessionView[];
  recents: TargetSummary[];
  available: TargetSummary[];
  startAtLogin: boolean;
}

export interface AppTrayOptions {
  /** resources/ (holding tray/), or its packaged copy. */
  iconDir: string;
  platform: NodeJS.Platform;
  state: TrayState;
  onAction: (action: TrayAction) => void;
  /** The menu is about to open: a chance to refresh the target list for the next time. */
  onMenuWillShow: () => void;
}

export class AppTray {
  private readonly tray: Tray;
  private readonly images = new Map<string, NativeImage>();
  private state: TrayState;
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: AppTrayOptions) {
    this.state = options.state;
    this.tray = new Tray(this.image(trayIconFor(trayPhase(this.state), options.platform).file));
    // Windows opens the menu on a right click only; a left click shows the window, as in most tray apps.
    if (options.platform === "win32") this.tray.on("click", () => options.onAction({ kind: "show-window" }));
    this.render();
  }

  update(change: Partial<TrayState>): void {
    this.state = { ...this.state, ...change };
    this.render();
  }

  destroy(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.tray.destroy();
  }

  private render(): void {
    const { platform } = this.options;
    const now = Date.now();
    const icon = trayIconFor(trayPhase(this.state), platform);
    this.tray.setImage(this.image(icon.file));
    this.tray.setToolTip(icon.tooltip);
    const menu = Menu.buildFromTemplate(
      menuTemplate(trayMenu({ ...this.state, platform, now }), platform, this.options.onAction),
    );
    menu.on("menu-will-show", () => this.options.onMenuWillShow());
    this.tray.setContextMenu(menu);

    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    const wait = nextMenuRefreshMsOf(this.state, now);
    this.refreshTimer = wait === null ? null : setTimeout(() => this.render(), wait);
  }

  private image(file: string): NativeImage {
    let image = this.images.get(file);
    if (!image) {
      // createFromPath picks up the `@2x` file beside it for HiDPI screens.
      image = nativeImage.createFromPath(join(this.options.iconDir, "tray", file));
      if (file.includes("Template")) image.setTemplateImage(true);
      this.images.set(file, image);
    }
    return image;
  }
}
