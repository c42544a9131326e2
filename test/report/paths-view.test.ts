/**
 * The HTML report's Paths view in a real browser (Debian's Chromium through
 * puppeteer-core): on synthetic execs across three hops and on both hops of
 * a real kubectl 1.33 exec through a real kube-apiserver (the two hop
 * captures merged with mergecap into one file), the page shows each path
 * with its hops in order and their protocols, the links as the summary
 * gives them, and a clicked data mark's stream offset at every other hop.
 * No console errors, no network. Screenshots go to test-output/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PathSummary } from '../../src/paths/index.js';
import { cliMissing, fixture, ROOT, runCli } from '../cli/helpers.js';
import { execPathCapture, manyExecs } from '../helpers/exec-paths.js';
import { sharedDir } from '../helpers/shared-captures.js';
import { decodeForPaths } from '../paths/helpers.js';
import { findChromium, launchChromium, openReport } from './browser.js';

const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');
const chromium = findChromium();
const skip = cliMissing() ?? (chromium ? null : 'chromium not installed (apt-get install chromium; .ci/run does); the Paths view is not checked in a browser');
if (skip) console.warn(skip);
const real = sharedDir('real-apiserver');
const noReal = real ? null : 'no shared/real-apiserver beside the checkout';
if (!skip && noReal) console.warn(`${noReal}: the Paths view is not checked on a real kube-apiserver's hops`);

const tmp = mkdtempSync(join(tmpdir(), 'kubewire-paths-html-'));
let browser: Browser;

beforeAll(async () => {
  if (skip) return;
  browser = await launchChromium(chromium!);
});
afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const open = (file: string) => openReport(browser, file);

/** The summary's paths and the report of one capture. */
async function report(capture: string | string[], name: string): Promise<{ html: string; paths: PathSummary[] }> {
  const html = join(tmp, `${name}.html`);
  const r = await runCli(['decode', ...([] as string[]).concat(capture), '--summary', '--json', '--html', html]);
  expect([0, 1]).toContain(r.code);
  return { html, paths: (JSON.parse(r.stdout.toString()) as { paths: PathSummary[] }).paths };
}

/** Per path on the page: its hop rows (name, session, transport, protocol) and its links' confidence. */
function shownPaths(page: Page) {
  return page.$$eval('#paths .path', (ps) =>
    ps.map((p) => ({
      path: Number(p.getAttribute('data-path')),
      hops: [...p.querySelectorAll('g.hop-row')].map((g) => ({
        hop: g.getAttribute('data-name')!,
        session: Number(g.getAttribute('data-open')),
        transport: g.getAttribute('data-transport')!,
        protocol: g.getAttribute('data-protocol')!,
      })),
      links: [...p.querySelectorAll('g.link')].map((g) => g.getAttribute('data-confidence')),
    })),
  );
}

interface ShapeInfo {
  hop: number;
  stream: string;
  o0: number;
  o1: number;
}

/** The data marks of path N now highlighted as the followed byte's. */
function followed(page: Page, path: number): Promise<ShapeInfo[]> {
  return page.$$eval(`#paths .path[data-path="${path}"] .mark.followed`, (ms) =>
    ms.map((m) => ({ hop: Number(m.getAttribute('data-hop')), stream: m.getAttribute('data-stream')!, o0: Number(m.getAttribute('data-o0')), o1: Number(m.getAttribute('data-o1')) })),
  );
}

/** Click the stdout mark at the client hop of path N that starts furthest into the stream; its offset. */
async function clickClientStdout(page: Page, path: number): Promise<number> {
  const marks = await page.$$eval(`#paths .path[data-path="${path}"] .mark.data[data-hop="0"][data-stream="stdout"]`, (ms) =>
    ms.map((m) => ({ shape: m.getAttribute('data-shape')!, o0: Number(m.getAttribute('data-o0')) })),
  );
  expect(marks.length).toBeGreaterThan(0);
  const last = marks.sort((a, b) => b.o0 - a.o0)[0]!;
  await page.$eval(`#paths .path[data-path="${path}"] [data-shape="${last.shape}"]`, (e) => e.dispatchEvent(new MouseEvent('click', { bubbles: true })));
  return last.o0;
}

function expectHops(shown: Awaited<ReturnType<typeof shownPaths>>, paths: PathSummary[]): void {
  expect(shown.map((p) => p.path)).toEqual(paths.map((p) => p.path));
  for (const [i, p] of paths.entries()) {
    expect(shown[i]!.hops).toEqual(p.hops.map((h) => ({ hop: h.hop, session: h.session, transport: h.transport, protocol: h.protocol ?? '' })));
    expect(shown[i]!.links).toEqual(p.links.map((l) => l.confidence));
  }
}

describe.skipIf(skip !== null)('--html: the Paths view in Chromium', () => {
  it('three execs across three hops: each path with its hops in order; a clicked stdout mark and a chosen offset are found at every hop; a hop opens its session', async () => {
    const capture = join(tmp, 'three-hops.pcapng');
    writeFileSync(capture, execPathCapture(manyExecs(3, { spacingUs: 300 })));
    const { html, paths } = await report(capture, 'three-hops');
    expect(paths).toHaveLength(3);
    const { page, errors, requests } = await open(html);
    try {
      expect(await page.$eval('#paths-section', (e) => (e as HTMLElement).hidden)).toBe(false);
      const shown = await shownPaths(page);
      expectHops(shown, paths);
      for (const p of shown) expect(p.hops.map((h) => h.hop)).toEqual(['client-apiserver', 'apiserver-kubelet', 'kubelet-runtime']);
      expect(await page.$eval('#paths .path[data-path="1"] g.hop-row[data-hop="0"] .hop-name', (e) => e.textContent)).toBe('1  kubectl → API server');

      const offset = await clickClientStdout(page, 1);
      expect(offset).toBeGreaterThan(0);
      const at = await followed(page, 1);
      expect(at.map((s) => s.hop).sort()).toEqual([0, 1, 2]);
      for (const s of at) {
        expect(s.stream).toBe('stdout');
        expect(s.o0).toBeLessThanOrEqual(offset);
        expect(s.o1).toBeGreaterThan(offset);
        // A mark of some frames, not one that covers the whole 4 KiB stream.
        expect(s.o1 - s.o0).toBeLessThan(4096);
      }
      expect(await page.$$eval('#paths .path[data-path="1"] .follow circle', (c) => c.length)).toBe(3);
      const said = await page.$eval('#paths .path[data-path="1"] .follow-info', (e) => e.textContent!);
      expect(said).toContain(`stdout byte ${offset}`);
      for (const n of [1, 2, 3]) expect(said).toContain(`hop ${n} (`);
      // Nothing of the other paths is highlighted.
      expect(await followed(page, 2)).toEqual([]);

      // A chosen offset of stdin, through the controls, on the whole path.
      await page.click('#paths .path[data-path="2"] .toolbar button:nth-of-type(3)');
      await page.select('#paths .path[data-path="2"] .follow-stream', '0');
      await page.$eval('#paths .path[data-path="2"] .follow-offset', (e) => {
        (e as HTMLInputElement).value = '3000';
        e.dispatchEvent(new Event('change'));
      });
      const stdin = await followed(page, 2);
      expect(stdin.map((s) => s.hop).sort()).toEqual([0, 1, 2]);
      for (const s of stdin) {
        expect(s.stream).toBe('stdin');
        expect(s.o0).toBeLessThanOrEqual(3000);
        expect(s.o1).toBeGreaterThan(3000);
      }

      // A hop's name opens its session.
      const inner = paths[1]!.hops[2]!.session;
      await page.$eval('#paths .path[data-path="2"] g.hop-row[data-hop="2"] .hop-name', (e) => e.dispatchEvent(new MouseEvent('click', { bubbles: true })));
      expect(await page.$eval('#session-title', (e) => e.textContent)).toMatch(new RegExp(`^Session ${inner}: exec`));
      expect(await page.$eval('#sessions tbody tr.selected', (e) => Number(e.getAttribute('data-session')))).toBe(inner);

      mkdirSync(SCREENSHOTS, { recursive: true });
      await clickClientStdout(page, 1);
      await (await page.$('#paths-section'))!.screenshot({ path: join(SCREENSHOTS, 'report-paths-three-hops.png') });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('zoom, the mouse wheel and dragging move one time axis; a press that dragged is not a click; the session lanes share the same axis', async () => {
    const capture = join(tmp, 'zoom.pcapng');
    writeFileSync(capture, execPathCapture(manyExecs(1, { bytes: 16384 })));
    const { html, paths } = await report(capture, 'zoom');
    expect(paths).toHaveLength(1);
    const { page, errors } = await open(html);
    const path = '#paths .path[data-path="1"]';
    /** The tick labels: what a change of the window moves. */
    const view = () => page.$eval(path, (p) => ({ ticks: [...p.querySelectorAll('g.axis text')].map((t) => t.textContent!) }));
    try {
      const whole = await view();
      await page.click(`${path} .toolbar button:nth-of-type(1)`);
      const zoomed = await view();
      expect(zoomed.ticks).not.toEqual(whole.ticks);
      await page.click(`${path} .toolbar button:nth-of-type(3)`);
      expect(await view()).toEqual(whole);

      // The wheel zooms about the pointer; a drag to the right then shows earlier times.
      const box = (await (await page.$(`${path} svg`))!.boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.6, box.y + 30);
      await page.mouse.wheel({ deltaY: -100 });
      await page.mouse.wheel({ deltaY: -100 });
      const wheeled = await view();
      expect(wheeled.ticks).not.toEqual(whole.ticks);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6 + 120, box.y + 30, { steps: 4 });
      await page.mouse.up();
      const dragged = await view();
      expect(dragged.ticks).not.toEqual(wheeled.ticks);

      // A press on a mark that moves away and back is a drag, not a click: nothing is followed.
      await page.click(`${path} .toolbar button:nth-of-type(3)`);
      const mark = (await (await page.$(`${path} .mark.data[data-stream="stdout"]`))!.boundingBox())!;
      const mx = mark.x + mark.width / 2;
      const my = mark.y + mark.height / 2;
      await page.mouse.move(mx, my);
      await page.mouse.down();
      await page.mouse.move(mx + 40, my, { steps: 3 });
      await page.mouse.move(mx, my, { steps: 3 });
      await page.mouse.up();
      expect(await followed(page, 1)).toEqual([]);
      // A plain click on it follows its byte.
      await page.click(`${path} .toolbar button:nth-of-type(3)`);
      const again = (await (await page.$(`${path} .mark.data[data-stream="stdout"]`))!.boundingBox())!;
      await page.mouse.click(again.x + again.width / 2, again.y + again.height / 2);
      expect((await followed(page, 1)).length).toBeGreaterThan(0);

      // The session's lanes: the same zoom buttons and wheel on their own axis.
      const session = paths[0]!.hops[0]!.session!;
      await page.click(`#sessions tbody tr[data-session="${session}"]`);
      const lanesTicks = () => page.$$eval('#lanes g.axis text', (ts) => ts.map((t) => t.textContent!));
      const before = await lanesTicks();
      expect(before.length).toBeGreaterThan(0);
      await page.click('#zoom-in');
      expect(await lanesTicks()).not.toEqual(before);
      await page.click('#zoom-reset');
      expect(await lanesTicks()).toEqual(before);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('a capture cut while stdout was on its way out: the links partial, the stop marked at its hop, the innermost hop\'s last byte not seen at the outer hops', async () => {
    const whole = execPathCapture(manyExecs(1, { bytes: 8192 }));
    const clientStdout = (at: number) =>
      decodeForPaths(whole.subarray(0, at)).summary.sessions.find((s) => s.hop === 'client-apiserver')?.streams.find((s) => s.role === 'stdout')?.serverToClient.bytes ?? 0;
    // The shortest cut at which kubectl's hop has some stdout: the inner hops carried more by then.
    let lo = 0;
    let hi = whole.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (clientStdout(mid) === 0) lo = mid;
      else hi = mid;
    }
    const capture = join(tmp, 'cut.pcapng');
    writeFileSync(capture, whole.subarray(0, hi));
    const { html, paths } = await report(capture, 'cut');
    expect(paths).toHaveLength(1);
    const stop = paths[0]!.stopped.find((s) => s.stream === 'stdout' && s.why === 'short')!;
    expect(stop.captureEnded).toBe(true);
    const { page, errors } = await open(html);
    try {
      expect(await page.$$eval('#paths g.link[data-partial="true"]', (g) => g.length)).toBe(paths[0]!.links.filter((l) => l.partial).length);
      expect(paths[0]!.links.some((l) => l.partial)).toBe(true);
      expect(await page.$eval(`#paths g.hop-row[data-hop="${stop.hop}"] .stop`, (t) => t.textContent)).toMatch(/^stdout stopped here: .* of .*\(this capture ended there\)/);
      // The last byte the innermost hop carried (it was a few frames ahead when the capture ended): seen there only.
      const last = paths[0]!.hops[2]!.streams.find((s) => s.stream === 'stdout')!.bytes - 1;
      await page.select('#paths .follow-stream', String(await page.$$eval('#paths .follow-stream option', (os) => os.findIndex((o) => o.textContent === 'stdout'))));
      await page.$eval(
        '#paths .follow-offset',
        (e, n) => {
          (e as HTMLInputElement).value = String(n);
          e.dispatchEvent(new Event('change'));
        },
        last,
      );
      expect(paths[0]!.hops.map((h) => h.streams.find((s) => s.stream === 'stdout')!.bytes > last)).toEqual([false, false, true]);
      expect((await followed(page, 1)).map((s) => s.hop)).toEqual([2]);
      // Said in the order stdout travels: from the runtime out.
      expect(await page.$$eval('#paths .follow-info .follow-hop.missing', (ms) => ms.map((m) => m.getAttribute('data-hop')))).toEqual(['1', '0']);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it.skipIf(noReal !== null)('a real kube-apiserver, each hop its own capture file: the WebSocket v5 client hop above the SPDY kubelet hop; the clicked stdout byte found at the kubelet hop', async () => {
    const hop = (h: string) => join(real!, `kubectl-1.33.exec-cat.${h}-hop.pcapng`);
    const { html, paths } = await report([hop('api'), hop('kubelet')], 'real-exec-cat');
    expect(paths).toHaveLength(1);
    const { page, errors, requests } = await open(html);
    try {
      const shown = await shownPaths(page);
      expectHops(shown, paths);
      expect(shown[0]!.hops.map((h) => [h.hop, h.transport, h.protocol])).toEqual([
        ['client-apiserver', 'websocket', 'v5.channel.k8s.io'],
        ['apiserver-kubelet', 'spdy/3.1', 'v4.channel.k8s.io'],
      ]);
      // Two files, two clocks: the kubelet capture's put on the API server capture's, by name only.
      const clocks = await page.$eval('#paths .path .facts', (e) => e.textContent!);
      expect(clocks).toMatch(/^Times from 2 capture files, put on one clock: kubectl-1\.33\.exec-cat\.api-hop\.pcapng is the reference clock; kubectl-1\.33\.exec-cat\.kubelet-hop\.pcapng's clock runs .* \(± .*; corrected\)\.$/);
      expect(await page.$eval('#paths-section', (e) => e.textContent!)).not.toContain(real!);
      const link = await page.$eval('#paths .path g.link', (g) => g.textContent!);
      expect(link).toContain('high confidence (identity, bytes, timing)');
      expect(link).toMatch(/stdout \+[\d.]+ ms p50/);
      const offset = await clickClientStdout(page, 1);
      const at = await followed(page, 1);
      expect(at.map((s) => s.hop).sort()).toEqual([0, 1]);
      for (const s of at) expect(s.o0 <= offset && offset < s.o1).toBe(true);
      expect(await page.$$eval('#paths .follow polyline', (p) => p.length)).toBe(1);
      // The kubelet hop's stdout comes first: the API server passes it on later.
      expect(await page.$eval('#paths .follow-info', (e) => e.textContent!)).toMatch(/hop 2 \(API server → kubelet\) at \+[\d.]+ ms → hop 1 \(kubectl → API server\) at \+[\d.]+ ms \([\d.]+ ms later\)/);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await (await page.$('#paths-section'))!.screenshot({ path: join(SCREENSHOTS, 'report-paths.png') });
      expect(statSync(join(SCREENSHOTS, 'report-paths.png')).size).toBeGreaterThan(10_000);
    } finally {
      await page.close();
    }
  });

  const chainTty = join(ROOT, 'fixtures', 'chain', 'k133-exec-tty.pcap');
  it.skipIf(!existsSync(chainTty))('real kubectl 1.33 with a TTY through three hops (serve --chain): WebSocket v5, then SPDY twice; a stdout byte found at every hop', async () => {
    const { html, paths } = await report(chainTty, 'chain-tty');
    expect(paths).toHaveLength(1);
    const { page, errors, requests } = await open(html);
    try {
      const shown = await shownPaths(page);
      expectHops(shown, paths);
      expect(shown[0]!.hops.map((h) => [h.hop, h.transport, h.protocol])).toEqual([
        ['client-apiserver', 'websocket', 'v5.channel.k8s.io'],
        ['apiserver-kubelet', 'spdy/3.1', 'v4.channel.k8s.io'],
        ['kubelet-runtime', 'spdy/3.1', 'v4.channel.k8s.io'],
      ]);
      const offset = await clickClientStdout(page, 1);
      const at = await followed(page, 1);
      expect(at.map((s) => s.hop).sort()).toEqual([0, 1, 2]);
      for (const s of at) expect(s.o0 <= offset && offset < s.o1).toBe(true);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await (await page.$('#paths-section'))!.screenshot({ path: join(SCREENSHOTS, 'report-paths-chain.png') });
    } finally {
      await page.close();
    }
  });

  it('text from the capture is escaped in the Paths view as everywhere else', async () => {
    const execs = manyExecs(1).map((e) => ({ ...e, command: ['sh', '-c', 'printf \x1b[31m<b>red</b>', 'abc\u202eevil'] }));
    const capture = join(tmp, 'escapes.pcapng');
    writeFileSync(capture, execPathCapture(execs));
    const { html, paths } = await report(capture, 'escapes');
    expect(paths).toHaveLength(1);
    const text = readFileSync(html, 'utf8');
    expect(text).not.toContain('\x1b[31m');
    expect(text).not.toContain('\u202e');
    const { page, errors } = await open(html);
    try {
      const title = await page.$eval('#paths .path h3', (e) => e.textContent!);
      expect(title).toContain('abc\\u{202e}evil');
      expect(title).toContain('printf \\x1b[31m<b>red</b>');
      expect(await page.$$eval('#paths b', (b) => b.length)).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it.skipIf(!fixture('k133-exec-tty'))('a capture of one hop: no Paths section', async () => {
    const { html, paths } = await report(fixture('k133-exec-tty')!.capture, 'one-hop');
    expect(paths).toEqual([]);
    const { page, errors } = await open(html);
    try {
      expect(await page.$eval('#paths-section', (e) => (e as HTMLElement).hidden)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
