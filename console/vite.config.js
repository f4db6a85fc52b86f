// The console is built into the Python package (api/console_dist), which serves it at "/".
// Every asset is local: no CDN, no web font, so it works with no internet.
import { fileURLToPath } from "node:url";
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [vue()],
  base: "/",
  build: {
    outDir: fileURLToPath(new URL("../api/console_dist", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    // No inline <script> and no module-preload polyfill: the pages' Content-Security-Policy
    // allows scripts from the service only.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npm run dev` against a service on the default port (console/README.md).
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
});
