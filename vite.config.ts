import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const page = (name: string) => fileURLToPath(new URL(`src/renderer/${name}`, import.meta.url));

// The renderer is a plain React app: built with Vite's own JSX transform so that no
// plugin that needs a download is involved; served by Electron or by `backhaul ui`.
// stress.html is the NAT table under load for e2e/ui-stress.test.ts; the app never links to it.
export default defineConfig({
  root: "src/renderer",
  base: "./",
  build: {
    outDir: "../../dist/renderer",
    emptyOutDir: true,
    sourcemap: true,
    // Vite 8's name for what was rollupOptions.
    rolldownOptions: { input: { index: page("index.html"), stress: page("stress.html") } },
  },
  oxc: { jsx: { runtime: "automatic" } },
});
