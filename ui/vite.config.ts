/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Tauri serves ui/dist from its own origin; everything is bundled locally
// (no remote assets) so the strict CSP in src-tauri/tauri.conf.json holds.
export default defineConfig({
  base: './',
  plugins: [svelte()],
  clearScreen: false,
  envPrefix: ['TAURI_'],
  server: {
    port: 1420,
    strictPort: true,
    host: '127.0.0.1',
    watch: { ignored: ['**/src-tauri/**'] },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: ['es2021', 'chrome105', 'safari15'],
    sourcemap: false,
    // One CSS file, no inline styles or scripts: fits style-src/script-src 'self'.
    cssCodeSplit: false,
    assetsInlineLimit: 0,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
