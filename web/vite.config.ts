import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

/**
 * The agent serves index.html at `/` and everything else under `/ui/` (src/web/web-ui.ts).
 * scripts/build-web.sh passes --outDir; nothing here may reach the internet at run time.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/ui/',
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false })],
  build: {
    target: 'es2022',
    sourcemap: false,
    emptyOutDir: true,
    // One small bundle: no module-preload polyfill (it would be an inline script, refused by our CSP).
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
