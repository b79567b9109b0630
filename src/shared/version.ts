// Replaced by the bundler with package.json's version; "dev" when run from sources (tsx, tests).
declare const __BACKHAUL_VERSION__: string | undefined;

export const VERSION: string = typeof __BACKHAUL_VERSION__ === "string" ? __BACKHAUL_VERSION__ : "dev";
