// Builds dist/report/report.html, the page `kubewire decode --html` fills:
// the page's script (src/report/page, with xterm.js) bundled by esbuild into
// one inline script, xterm's and the page's styles inline, so the report opens
// from disk with no network. Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const page = join(root, 'src', 'report', 'page');
const require = createRequire(import.meta.url);

const bundle = await build({
  entryPoints: [join(page, 'main.ts')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  legalComments: 'eof',
  write: false,
});
// Inside a <script> element nothing may read as its end tag.
const js = bundle.outputFiles[0].text.replace(/<\/(script)/gi, '<\\/$1');
const xtermCss = readFileSync(join(dirname(require.resolve('@xterm/xterm/package.json')), 'css', 'xterm.css'), 'utf8');
const pageCss = readFileSync(join(page, 'style.css'), 'utf8');

let html = readFileSync(join(page, 'template.html'), 'utf8');
for (const [slot, text] of [
  ['/*XTERM_CSS*/', xtermCss],
  ['/*PAGE_CSS*/', pageCss],
  ['/*PAGE_JS*/', js],
]) {
  const at = html.indexOf(slot);
  if (at < 0) throw new Error(`template.html lacks ${slot}`);
  html = html.slice(0, at) + text + html.slice(at + slot.length);
}
mkdirSync(join(root, 'dist', 'report'), { recursive: true });
writeFileSync(join(root, 'dist', 'report', 'report.html'), html);
console.log(`dist/report/report.html: ${(html.length / 1024).toFixed(0)} KiB`);
