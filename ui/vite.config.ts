import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Tauri loads `devUrl: http://localhost:1420` in dev and `frontendDist: ../ui/dist` in builds.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  server: { port: 1420, strictPort: true, host: "localhost" },
  preview: { port: 1421, strictPort: false },
  build: {
    outDir: "dist",
    target: "es2021",
    // No inline scripts or data: URLs in the output (strict CSP).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
  },
});
