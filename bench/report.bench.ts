/**
 * The HTML report at scale: `kubewire decode FILE --html` of the ~100 MB
 * bulk capture (bulk-capture.ts), its size, and how long Chromium takes to
 * open it from disk until the session's lanes are drawn. Targets from the
 * issue: opens in under 2 s, under 10 MB. No peer. Skipped (with the reason)
 * without root, tcpdump, kubectl 1.27 or Chromium. KUBEWIRE_BULK_CAPTURE=FILE
 * reads an existing capture instead of recording one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bulkCaptureUnavailable, recordBulkCapture } from './bulk-capture.js';
import { result, type Bench, type BenchResult } from './harness.js';

const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const RUNS = 3;

const bench: Bench = {
  group: 'report',
  async run(): Promise<BenchResult[]> {
    const given = process.env.KUBEWIRE_BULK_CAPTURE;
    const why =
      (given ? null : bulkCaptureUnavailable()) ??
      (CHROMIUM ? null : 'chromium not installed') ??
      (existsSync(CLI) ? null : 'dist/cli/main.js not built (npm run build)');
    if (why) {
      console.warn(`report bench skipped: ${why}`);
      return [];
    }
    const work = mkdtempSync(join(tmpdir(), 'kubewire-report-bench-'));
    try {
      const capture = given ?? join(work, 'exec-cat.pcap');
      if (!given) await recordBulkCapture(capture);
      const html = join(work, 'report.html');
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [CLI, 'decode', capture, '--summary', '--json', '--html', html], { maxBuffer: 64 * 1024 * 1024 });
      const decodeSeconds = (performance.now() - t0) / 1000;
      if (r.status !== 0) throw new Error(`decode --html failed: ${r.stderr.toString()}`);
      const mb = statSync(capture).size / 1e6;
      const size = statSync(html).size;

      const puppeteer = (await import('puppeteer-core')).default;
      const browser = await puppeteer.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
      const times: number[] = [];
      /** As the page measured it: from navigation start until the session was drawn. */
      const drawn: number[] = [];
      let errors = 0;
      let omitted = '';
      try {
        for (let i = 0; i < RUNS; i++) {
          const page = await browser.newPage();
          await page.setViewport({ width: 1280, height: 900 });
          page.on('pageerror', () => errors++);
          page.on('console', (m) => void (m.type() === 'error' && errors++));
          const start = performance.now();
          await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
          await page.waitForSelector('#lanes svg g.lane .mark');
          times.push((performance.now() - start) / 1000);
          drawn.push(Number(await page.$eval('body', (b) => b.dataset.drawnMs)) / 1000);
          omitted = await page.$eval('#omitted', (e) => e.textContent ?? '');
          await page.close();
        }
      } finally {
        await browser.close();
      }
      const open = Math.min(...times);
      return [
        result(`HTML report of a ${mb.toFixed(0)} MB kubectl exec capture: open until lanes drawn`, 's', open, null, {
          target: '< 2 s, < 10 MB',
          notes:
            `page ${(size / 1e6).toFixed(1)} MB; decode --html ${decodeSeconds.toFixed(2)} s (whole process); ` +
            `open ${times.map((t) => t.toFixed(2)).join(' / ')} s (best of ${RUNS}; the page's own clock until drawn: ${drawn.map((t) => t.toFixed(2)).join(' / ')} s); ` +
            `page errors ${errors}; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores; ` +
            `the page says: "${omitted.slice(0, 90)}…"`,
        }),
      ];
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};

export default bench;
