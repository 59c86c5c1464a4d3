import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// The Tauri shell loads http://localhost:5173 in development (tauri.conf.json `devUrl`)
// and embeds `dist/` in builds (`frontendDist`).
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  test: {
    environment: 'jsdom',
    // browser-tests/ runs under node --test (npm run test:browser).
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    unstubGlobals: true,
  },
});
