import { defineConfig } from 'vitest/config';

// During `npm run dev`, the API is proxied to a running `tilery serve`
// (TILERY_API, default http://127.0.0.1:8080) so the client and the server
// share an origin exactly as in production, where the server serves dist/.
const api = process.env.TILERY_API || 'http://127.0.0.1:8080';

export default defineConfig({
  build: {
    outDir: 'dist',
    sourcemap: true,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: { '/api': { target: api, changeOrigin: false } },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
