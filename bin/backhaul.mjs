#!/usr/bin/env node
// Runs the bundled CLI; `npm install` builds it (package.json "install").
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.mjs", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("backhaul: not built yet; run `npm run build` in the Backhaul folder\n");
  process.exit(1);
}
await import(cli.href);
