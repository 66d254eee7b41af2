// forja server's web UI. `npm run build` writes dist/ (the CMake build passes --outDir into
// its build folder and embeds the files in the forja binary); `npm run dev` serves the
// sources with hot reload and proxies the API to a running forja server (FORJA_SERVER,
// default http://127.0.0.1:5000), so the page talks to real data while you edit it.
import { defineConfig } from "vite";

const server = process.env.FORJA_SERVER ?? "http://127.0.0.1:5000";

export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    // Every browser that runs ES modules has modulepreload; the polyfill would only add code.
    modulePreload: { polyfill: false },
    // Assets are files, never data: URLs, so the CSP needs no data: source for them.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      "/api": server,
      "/ajax-api": server,
      "/health": server,
      "/version": server,
    },
  },
});
