// Bundles the web console (web/console/) into dist/console/: app.js (Preact and uPlot included,
// minified), app.css and index.html. Run by `npm run build` (and so by `npm ci` through prepare),
// so the package serves the page with nothing fetched at run time. Type checking is tsc's job
// (web/console/tsconfig.json); esbuild only strips types and bundles.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

const out = 'dist/console';
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: 'web/console/main.tsx' },
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync('web/console/index.html', `${out}/index.html`);
