// forja server's web UI. `npm run build` writes dist/ (the CMake build passes --outDir into
// its build folder and embeds the files in the forja binary); `npm run dev` serves the
// sources with hot reload and proxies the API to a running forja server (FORJA_SERVER,
// default http://127.0.0.1:5000), so the page talks to real data while you edit it.
import { defineConfig, type Plugin } from "vite";

const server = process.env.FORJA_SERVER ?? "http://127.0.0.1:5000";

// index.html's comparison script preloads the comparison's code (its page and every chunk it
// imports: the charts, uPlot, their stylesheet) while the app's own loads (the lazy page would
// ask for it only once the app has run):
// the build writes the names of those files (hashed, so known only now) into the script, in
// place of its empty list. The server hashes the inline scripts as built (ui_routes.cc's CSP).
function compareChunks(): Plugin {
  const marker = "[] /* forja:compare-chunks */";
  return {
    name: "forja-compare-chunks",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(html, ctx) {
        const bundle = ctx.bundle ?? {};
        const files: string[] = [];
        const add = (name: string) => {
          const c = bundle[name];
          if (!c || c.type !== "chunk" || c.isEntry || files.includes(name)) return;
          files.push(name);
          c.imports.forEach(add);
          for (const css of c.viteMetadata?.importedCss ?? []) if (!files.includes(css)) files.push(css);
        };
        for (const c of Object.values(bundle))
          if (c.type === "chunk" && /\/compare\/ComparePage\.tsx$/.test(c.facadeModuleId ?? "")) add(c.fileName);
        if (!html.includes(marker) || files.length < 2) throw new Error("forja-compare-chunks: no list or no chunks to write");
        return html.replace(marker, JSON.stringify(files.map((f) => "/" + f)));
      },
    },
  };
}

export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  plugins: [compareChunks()],
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
