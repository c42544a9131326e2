// Builds dist/bin/kubewire.js, the `kubewire` executable: src/cli/main.ts
// bundled by esbuild, so that `kubewire decode` loads a handful of files at
// start-up instead of the ~80 modules tsc emits (module loading was a sixth of
// decoding a 100 MB capture). Code that only other commands need stays in
// chunks loaded when they run (dynamic imports become chunks); packages from
// node_modules stay external. Run by `npm run build` after tsc; dist/cli/ (tsc's
// output) stays the library and the unbundled CLI.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'dist', 'bin');
rmSync(out, { recursive: true, force: true });
const result = await build({
  // The tap's decoding worker is an entry of its own, beside the chunks it shares with the CLI.
  entryPoints: { kubewire: join(root, 'src', 'cli', 'main.ts'), 'tap-decode-worker': join(root, 'src', 'cli', 'tap-decode-worker.ts') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outdir: out,
  chunkNames: 'chunk-[hash]',
  // The unbundled CLI `require`s decode-run.js by name; the bundle imports its chunk.
  define: { 'process.env.KUBEWIRE_BUNDLE': '"1"' },
  metafile: true,
  logLevel: 'warning',
});
chmodSync(join(out, 'kubewire.js'), 0o755);
const files = Object.keys(result.metafile.outputs);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`dist/bin/kubewire.js: ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB`);
