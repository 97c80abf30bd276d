import { defineConfig } from 'vitest/config';
import type { ProxyOptions } from 'vite';
import react from '@vitejs/plugin-react';

// The Pharos server we proxy to during `npm run dev`; override with PHAROS_URL.
const pharos = process.env.PHAROS_URL ?? 'http://localhost:3000';

// Pharos refuses writes whose Origin is another site (CSRF protection); through the dev proxy the
// page's origin is Vite's, so the proxy presents the request as coming from Pharos itself.
const toPharos = (extra: ProxyOptions = {}): ProxyOptions => ({
  target: pharos,
  changeOrigin: true,
  configure: (proxy) => proxy.on('proxyReq', (req) => req.getHeader('origin') && req.setHeader('origin', new URL(pharos).origin)),
  ...extra,
});

function proxyRoutes(): Record<string, ProxyOptions> {
  return {
    '/api': toPharos(),
    // GET /login is the UI's own page; only the form's POST goes to Pharos.
    '/login': toPharos({ bypass: (req) => (req.method === 'GET' ? req.url : undefined) }),
    '/logout': toPharos(),
  };
}

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    // Hashed names (Vite's default) let the server cache assets forever and keep index.html uncached.
    assetsDir: 'assets',
    sourcemap: false,
  },
  server: { proxy: proxyRoutes() },
  // `npm run preview` serves the production build the same way, for checking what ships.
  preview: { proxy: proxyRoutes() },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
