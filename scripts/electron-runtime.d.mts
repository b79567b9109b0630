/** The Electron runtime unpacked under `root`/node_modules/electron, or null when it was not downloaded. */
export function electronRuntime(root: string): { dist: string; binary: string } | null;
