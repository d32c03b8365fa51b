import { fileURLToPath } from "node:url";

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

// Two pages from one build: the Studio (served at /) and GraphiQL (served at /graphql).
// The output is committed inside the Python package, so the build must be deterministic:
// content-hashed names, no source maps, no timestamps.
export default defineConfig({
  root: here,
  base: "/",
  plugins: [react()],
  resolve: {
    // The client package straight from source: one build, no stale dist/.
    alias: {
      "@reelforge/client/react": fileURLToPath(new URL("../packages/client/src/react.ts", import.meta.url)),
      "@reelforge/client": fileURLToPath(new URL("../packages/client/src/index.ts", import.meta.url)),
    },
  },
  build: {
    outDir: fileURLToPath(new URL("../../reelforge/studio/dist", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    // Everything from this host: no inline data: fonts or images either (CSP-friendly, cacheable).
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 3000,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL("index.html", import.meta.url)),
        graphiql: fileURLToPath(new URL("graphiql.html", import.meta.url)),
      },
    },
  },
  server: {
    proxy: {
      "/graphql": { target: "http://127.0.0.1:8000", ws: true },
      "/api": "http://127.0.0.1:8000",
    },
  },
});
