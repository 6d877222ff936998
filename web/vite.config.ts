import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { dashboardDocuments } from './src/operations.ts';

// The live dashboard. `npm run build:web` builds web/ into web/dist, which
// the service serves at `/` in processes with the `api` role. `npx vite --config
// web/vite.config.ts` serves it with hot reload, proxying /graphql (HTTP and
// WebSocket) to a service on localhost:4000.
const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Writes the service's trusted-documents list, `dist/trusted-documents.json`
 * of the package: the sha256 (hex, of the exact text) of every operation the
 * dashboard sends, with its text, so TRUSTED_DOCUMENTS_ONLY=true can run
 * exactly these, by text or by hash.
 */
function trustedDocuments(): Plugin {
  return {
    name: 'rt-trusted-documents',
    apply: 'build',
    closeBundle() {
      const documents = Object.fromEntries(
        dashboardDocuments().map((text) => [createHash('sha256').update(text, 'utf8').digest('hex'), text]),
      );
      const out = fileURLToPath(new URL('../dist/', import.meta.url));
      mkdirSync(out, { recursive: true });
      writeFileSync(`${out}trusted-documents.json`, `${JSON.stringify({ algorithm: 'sha256', documents }, null, 2)}\n`);
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  plugins: [trustedDocuments()],
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
