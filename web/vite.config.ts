import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The Pharos server we proxy to during `npm run dev`; override with PHAROS_URL.
const pharos = process.env.PHAROS_URL ?? 'http://localhost:3000';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    // Hashed names (Vite's default) let the server cache assets forever and keep index.html uncached.
    assetsDir: 'assets',
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': pharos,
      '/login': { target: pharos, bypass: (req) => (req.method === 'GET' && req.headers.accept?.includes('text/html') ? req.url : undefined) },
      '/logout': pharos,
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
