/**
 * A recording stand-in for the `electron` module, for running the shell (main.ts, bundled or as
 * shipped in dist/main/electron.cjs) under plain Node: main.test.ts and
 * e2e/electron-shipped.test.ts hand it to the shell in place of Electron. It records what the
 * shell asks (IPC handlers, windows and their web preferences, tray icons and menus, quits);
 * it cannot show that Electron honours any of it, which e2e/electron.test.ts does where the
 * Electron binary exists.
 */
import { EventEmitter } from "node:events";

export interface Prevented {
  defaultPrevented: boolean;
  preventDefault(): void;
}
export function event(): Prevented {
  return {
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

type Handler = (event: { senderFrame: { url: string; parent: unknown } | null }, payload: unknown) => unknown;
export interface Template {
  id?: string;
  type?: string;
  label?: string;
  enabled?: boolean;
  checked?: boolean;
  submenu?: Template[];
  click?: () => void;
}

export interface FakeElectronOptions {
  /** app.getPath("userData"). */
  userData: string;
  /** app.getAppPath(). */
  appPath: string;
  /** app.isPackaged: paths.ts then looks in process.resourcesPath. Default false. */
  isPackaged?: boolean;
  /** What app.requestSingleInstanceLock() answers: false when another instance runs. Default true. */
  singleInstanceLock?: boolean;
}

/** A fake of the parts of Electron the shell uses, recording what it was asked. */
export function fakeElectron(options: FakeElectronOptions) {
  const calls = {
    singleInstanceLock: 0,
    quit: 0,
    exit: [] as number[],
    loginItems: [] as unknown[],
    notifications: [] as { title: string; body: string }[],
    errorBoxes: [] as string[],
    external: [] as string[],
  };
  const handlers = new Map<string, Handler>();
  const sessionHooks: {
    headers?: (details: unknown, callback: (result: unknown) => void) => void;
    permission?: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void;
    check?: () => boolean;
  } = {};

  class App extends EventEmitter {
    isPackaged = options.isPackaged ?? false;
    requestSingleInstanceLock = () => {
      calls.singleInstanceLock++;
      return options.singleInstanceLock ?? true;
    };
    setAppUserModelId = () => undefined;
    whenReady = () => Promise.resolve();
    getPath = () => options.userData;
    getAppPath = () => options.appPath;
    getLoginItemSettings = () => ({ wasOpenedAtLogin: false });
    setLoginItemSettings = (settings: unknown) => calls.loginItems.push(settings);
    exit = (code: number) => calls.exit.push(code);
    quit = () => {
      calls.quit++;
      const quitting = event();
      this.emit("before-quit", quitting);
      if (quitting.defaultPrevented) return;
      this.quitted = true;
      this.onQuit();
    };
    quitted = false;
    onQuit: () => void = () => undefined;
  }
  const app = new App();

  class WebContents extends EventEmitter {
    sent: unknown[] = [];
    openHandler: ((details: { url: string }) => { action: string }) | null = null;
    send = (channel: string, payload: unknown) => this.sent.push([channel, payload]);
    isDestroyed = () => false;
    setWindowOpenHandler = (handler: (details: { url: string }) => { action: string }) => {
      this.openHandler = handler;
    };
  }

  class BrowserWindow extends EventEmitter {
    static all: BrowserWindow[] = [];
    static getAllWindows = () => BrowserWindow.all;
    webContents = new WebContents();
    visible = false;
    destroyed = false;
    loaded: string | null = null;
    constructor(readonly options: { show: boolean; webPreferences: Record<string, unknown> }) {
      super();
      BrowserWindow.all.push(this);
      app.emit("web-contents-created", event(), this.webContents);
      setImmediate(() => this.emit("ready-to-show"));
    }
    loadFile = (path: string) => {
      this.loaded = path;
      return Promise.resolve();
    };
    show = () => {
      this.visible = true;
    };
    hide = () => {
      this.visible = false;
    };
    focus = () => undefined;
    isMinimized = () => false;
    restore = () => undefined;
    isDestroyed = () => this.destroyed;
    close = () => {
      const closing = event();
      this.emit("close", closing);
      if (closing.defaultPrevented) return;
      this.destroyed = true;
      BrowserWindow.all = BrowserWindow.all.filter((window) => window !== this);
      this.emit("closed");
    };
  }

  class Tray extends EventEmitter {
    static all: Tray[] = [];
    image: { path: string } | null = null;
    /** Every icon it showed, in order. */
    images: string[] = [];
    tooltip = "";
    menu: { template: Template[] } | null = null;
    destroyed = false;
    constructor(image: { path: string }) {
      super();
      this.image = image;
      this.images.push(image.path);
      Tray.all.push(this);
    }
    setImage = (image: { path: string }) => {
      this.image = image;
      this.images.push(image.path);
    };
    setToolTip = (tooltip: string) => {
      this.tooltip = tooltip;
    };
    setContextMenu = (menu: { template: Template[] }) => {
      this.menu = menu;
    };
    destroy = () => {
      this.destroyed = true;
    };
  }

  class Notification extends EventEmitter {
    static isSupported = () => true;
    constructor(readonly options: { title: string; body: string }) {
      super();
    }
    show = () => calls.notifications.push({ title: this.options.title, body: this.options.body });
  }

  const electron = {
    app,
    BrowserWindow,
    Tray,
    Notification,
    Menu: { buildFromTemplate: (template: Template[]) => Object.assign(new EventEmitter(), { template }) },
    nativeImage: { createFromPath: (path: string) => ({ path, setTemplateImage: () => undefined }) },
    ipcMain: {
      handle: (channel: string, handler: Handler) => handlers.set(channel, handler),
      removeHandler: (channel: string) => handlers.delete(channel),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler: typeof sessionHooks.permission) => {
          sessionHooks.permission = handler;
        },
        setPermissionCheckHandler: (handler: typeof sessionHooks.check) => {
          sessionHooks.check = handler;
        },
        setDevicePermissionHandler: () => undefined,
        webRequest: {
          onHeadersReceived: (handler: typeof sessionHooks.headers) => {
            sessionHooks.headers = handler;
          },
        },
      },
    },
    dialog: { showErrorBox: (_title: string, text: string) => calls.errorBoxes.push(text) },
    shell: { openExternal: (url: string) => calls.external.push(url) },
  };
  return { electron, app, calls, handlers, sessionHooks, BrowserWindow, Tray };
}

export type FakeElectron = ReturnType<typeof fakeElectron>;

type Probe<T> = T | undefined | null | false;

/** Polls `probe` until it gives a truthy value; fails saying `what` after `ms`. */
export async function until<T>(
  what: string,
  probe: () => Probe<T> | Promise<Probe<T>>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A menu item by its id, in a template the fake's Menu.buildFromTemplate kept. */
export function menuItem(items: Template[] | undefined, id: string): Template | undefined {
  return items?.find((item) => item.id === id);
}
