import { defineConfig } from "vite";

// The renderer is a plain React app: built with Vite's own JSX transform so that no
// plugin that needs a download is involved; served by Electron or by `backhaul ui`.
export default defineConfig({
  root: "src/renderer",
  base: "./",
  build: { outDir: "../../dist/renderer", emptyOutDir: true, sourcemap: true },
  oxc: { jsx: { runtime: "automatic" } },
});
