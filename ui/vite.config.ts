import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

// Tauri serves ui/dist from a custom protocol, so asset paths must be relative.
// The app's CSP allows only same-origin scripts and styles: nothing here may
// inline either (no Svelte transitions, no CSS-in-JS).
export default defineConfig({
  base: './',
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // A single stylesheet file, never a style tag injected at run time.
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    // The stylesheet as text, for the test that its font stacks are lib/fonts.ts's.
    css: { include: [/app\.css/] },
    // Vitest's default of 5 s is a timing assertion in disguise: the 10,000
    // profile tests took 6.4 s once on a 2-core machine at load 12. A test
    // that hangs still fails, after 60 s.
    testTimeout: 60_000,
  },
});
