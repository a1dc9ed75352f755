import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

// Vitest 5 asks for Node 22.12, and Debian 12 ships Node 20, which the
// machines here and CI run. Of what Node 20 lacks, vitest uses only
// Map.groupBy, in the report of a failed test: without it, a failing test
// prints vitest's own TypeError instead of the failure. Node 22 has it.
if (!('groupBy' in Map)) {
  Object.defineProperty(Map, 'groupBy', {
    value<K, V>(items: Iterable<V>, key: (item: V, index: number) => K): Map<K, V[]> {
      const groups = new Map<K, V[]>();
      let index = 0;
      for (const item of items) {
        const k = key(item, index++);
        const group = groups.get(k);
        if (group) group.push(item);
        else groups.set(k, [item]);
      }
      return groups;
    },
    writable: true,
    configurable: true,
  });
}

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
