/**
 * Turns the tray menu description into Electron's menu template. Type-only use of Electron, so it
 * runs in tests; tray.ts passes the result to Menu.buildFromTemplate.
 */
import type { MenuItemConstructorOptions } from "electron";
import type { TrayAction, TrayMenuItem } from "./tray-menu.js";

export function menuTemplate(
  items: TrayMenuItem[],
  platform: NodeJS.Platform,
  onAction: (action: TrayAction) => void,
): MenuItemConstructorOptions[] {
  // Windows and Linux read "&" as a mnemonic marker: "R&D box" would lose its ampersand.
  const label = (text: string) => (platform === "darwin" ? text : text.replace(/&/g, "&&"));
  return items.map((item): MenuItemConstructorOptions => {
    if (item.type === "separator") return { type: "separator" };
    const shown = { id: item.id, type: item.type, label: label(item.label), enabled: item.enabled };
    switch (item.type) {
      case "submenu":
        return { ...shown, submenu: menuTemplate(item.submenu, platform, onAction) };
      case "checkbox": {
        const action = item.action;
        return { ...shown, checked: item.checked, click: () => onAction(action) };
      }
      case "normal": {
        const action = item.action;
        return { ...shown, ...(action ? { click: () => onAction(action) } : {}) };
      }
    }
  });
}
