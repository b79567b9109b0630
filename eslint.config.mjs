// Lint rules: typescript-eslint's type-aware recommended set; `any` is an error in engine code;
// the layers' import directions (scripts/eslint-layers.mjs).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";
import { layersPlugin } from "./scripts/eslint-layers.mjs";

export default tseslint.config(
  { ignores: ["dist/", "build/", "out/", "node_modules/", "src/helper/native/build/", "e2e/artifacts/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    files: ["src/**"],
    plugins: { backhaul: layersPlugin },
    rules: { "backhaul/layers": "error" },
  },
  {
    files: ["src/renderer/**"],
    languageOptions: { globals: { ...globals.browser } },
  },
);
