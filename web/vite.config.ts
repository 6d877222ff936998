import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The live dashboard. `npm run build:web` builds web/ into web/dist, which
// the service serves at `/` in processes with the `api` role. `npx vite --config
// web/vite.config.ts` serves it with hot reload, proxying /graphql (HTTP and
// WebSocket) to a service on localhost:4000.
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // ECharts and the province geometry make one ~1.5 MB chunk (~450 kB gzipped); fine for an internal dashboard.
    chunkSizeWarningLimit: 2_000,
  },
  server: {
    proxy: { '/graphql': { target: 'http://localhost:4000', ws: true } },
  },
});
