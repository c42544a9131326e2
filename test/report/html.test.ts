/**
 * `--html FILE` in a real browser: Debian's Chromium, driven by
 * puppeteer-core (which never downloads a browser). For every fixture the
 * page must open without console errors or network requests, list the
 * sessions of the summary, draw a lane per stream, and show for a clicked
 * data mark exactly the bytes `--extract` writes at that offset. A TTY
 * session's replay must end on the screen that `asciinema cat` of the
 * `--asciicast` recording gives in a terminal emulator. Screenshots go to
 * test-output/screenshots/ (not committed) to look at; nothing compares pixels.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Terminal } from '@xterm/headless';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMissing, fixtures, ROOT, runCli } from '../cli/helpers.js';
import { findChromium, launchChromium, openReport } from './browser.js';
import { writeSyntheticPcapng } from '../../src/capture/pcapng-writer.js';
import { OPCODE, WebSocketFrameEncoder } from '../../src/websocket/index.js';

const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');

const chromium = findChromium();
const all = fixtures();
const skip =
  cliMissing() ??
  (all.length === 0 ? 'fixtures missing; run npm run fixtures' : null) ??
  (chromium ? null : 'chromium not installed (apt-get install chromium; .ci/run does); the HTML report is not checked in a browser');
if (skip) console.warn(skip);
const noAsciinema = spawnSync('sh', ['-c', 'command -v asciinema && command -v script']).status === 0 ? null : 'asciinema or script(1) missing';
if (!skip && noAsciinema) console.warn(`${noAsciinema}: the replay is not compared with asciinema cat`);

const tmp = mkdtempSync(join(tmpdir(), 'kubewire-html-'));
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

interface SummarySession {
  session: number;
  kind: string;
  tty: boolean;
  streams: Array<{ id: number; role: string }>;
}

async function report(capture: string, name: string): Promise<{ html: string; extract: string; casts: string; sessions: SummarySession[] }> {
  const html = join(tmp, `${name}.html`);
  const extract = join(tmp, `${name}-extract`);
  const casts = join(tmp, `${name}-casts`);
  const r = await runCli(['decode', capture, '--summary', '--json', '--html', html, '--extract', extract, '--asciicast', casts]);
  expect([0, 1]).toContain(r.code);
  return { html, extract, casts, sessions: (JSON.parse(r.stdout.toString()) as { sessions: SummarySession[] }).sessions };
}

/** The xterm screen's text, row by row, trailing blanks trimmed. */
async function screenRows(page: Page): Promise<string[]> {
  // xterm stops drawing while the terminal is scrolled out of view, as a browser tab does.
  await page.$eval('#terminal', (t) => t.scrollIntoView());
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return page.$$eval('#terminal .xterm-rows > div', (rows) => rows.map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()));
}

async function replayAt(page: Page, fraction: 'start' | 'end'): Promise<string[]> {
  await page.$eval(
    '#seek',
    (e, f) => {
      const seek = e as HTMLInputElement;
      seek.value = f === 'end' ? seek.max : '0';
      seek.dispatchEvent(new Event('input'));
    },
    fraction,
  );
  await page.waitForFunction(
    (f) => {
      const t = document.getElementById('terminal')!.dataset;
      return t.ready === '1' && (f === 'end' ? t.position === t.end : t.position === '0');
    },
    {},
    fraction,
  );
  return screenRows(page);
}

/** `asciinema cat FILE` on a terminal: the recording's output bytes. */
function asciinemaCat(file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', `asciinema cat '${file}'`, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm', LANG: 'C.UTF-8', HOME: tmp },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(out)));
  });
}

/** What a terminal of cols × rows shows after `bytes` (xterm's headless build, outside the page). */
function render(bytes: Buffer, cols: number, rows: number): Promise<string[]> {
  const term = new Terminal({ cols, rows, allowProposedApi: true });
  return new Promise((resolve) =>
    term.write(bytes, () => {
      const b = term.buffer.active;
      const lines: string[] = [];
      for (let i = 0; i < rows; i++) lines.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? '');
      term.dispose();
      resolve(lines);
    }),
  );
}

describe.skipIf(skip !== null)('--html report in Chromium', () => {
  it.each(all.map((f) => [f.name, f] as const))('%s: opens offline without errors, lists the sessions, draws their streams, shows the bytes of a clicked mark', async (name, f) => {
    const { html, extract, sessions } = await report(f.capture, name);
    if (f.truth.secret) expect(readFileSync(html, 'utf8')).not.toContain(f.truth.secret);
    const { page, errors, requests } = await open(html);
    try {
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      // The list: one row per session, with its kind.
      const rows = await page.$$eval('#sessions tbody tr', (trs) => trs.map((tr) => [Number(tr.getAttribute('data-session')), tr.children[1]!.textContent]));
      expect(rows).toEqual(sessions.map((s) => [s.session, s.kind + (s.tty ? ' (tty)' : '')]));
      if (sessions.length === 0) return;
      // The first session is shown: a lane per stream of the summary.
      const shown = sessions[0]!;
      const lanes = await page.$$eval('#lanes g.lane', (gs) => gs.map((g) => g.getAttribute('data-lane')!));
      expect(lanes.filter((l) => l !== 'session').sort()).toEqual(shown.streams.map((s) => `stream${s.id}`).sort());
      const roles = await page.$$eval('#lanes g.lane', (gs) => Object.fromEntries(gs.map((g) => [g.getAttribute('data-lane'), g.getAttribute('data-role')])));
      for (const s of shown.streams) if (s.role !== 'unknown') expect(roles[`stream${s.id}`]).toBe(s.role);

      // Click data marks (stdout first) and compare what the page shows with --extract's files.
      const marks = await page.$$eval('#lanes g.lane .mark.data', (ms) =>
        ms.map((m) => ({ pick: m.getAttribute('data-pick')!, lane: m.closest('g.lane')!.getAttribute('data-lane')!, role: m.closest('g.lane')!.getAttribute('data-role')!, dir: m.classList.contains('c2s') ? 'c2s' : 's2c' })),
      );
      const streamBytes = shown.streams.length > 0;
      if (streamBytes) expect(marks.length).toBeGreaterThan(0);
      const chosen = [...marks.filter((m) => m.role === 'stdout'), ...marks.filter((m) => m.role !== 'stdout')].slice(0, 12);
      let compared = 0;
      for (const m of chosen) {
        await page.$eval(`#lanes [data-pick="${m.pick}"]`, (e) => e.dispatchEvent(new MouseEvent('click', { bubbles: true })));
        const shownBytes = await page.$eval('#detail', (d) => {
          const pre = d.querySelector('pre.hex');
          return pre ? { offset: Number(pre.getAttribute('data-offset')), hex: pre.getAttribute('data-hex')! } : null;
        });
        if (!shownBytes) continue;
        const id = Number(m.lane.slice('stream'.length));
        // The file --extract wrote for this stream and direction (its name carries the role known when it was opened).
        const entry = extractIndex(extract).find(
          (f) => f.session === shown.session && f.streamId === id && f.direction === (m.dir === 'c2s' ? 'clientToServer' : 'serverToClient'),
        )!;
        const file = readFileSync(join(extract, entry.file));
        const bytes = Buffer.from(shownBytes.hex, 'hex');
        expect(bytes.length).toBeGreaterThan(0);
        expect(bytes.equals(file.subarray(shownBytes.offset, shownBytes.offset + bytes.length))).toBe(true);
        compared++;
      }
      if (chosen.length > 0) expect(compared).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  const ttys = all.filter((f) => f.truth.sessions.some((s) => s.tty));
  it.skipIf(noAsciinema !== null).each(ttys.map((f) => [f.name, f] as const))('%s: the replay ends on the screen asciinema cat of the recording gives; it plays from the start to there', async (name, f) => {
    const { html, casts, sessions } = await report(f.capture, `${name}-replay`);
    const s = sessions.find((x) => x.tty)!;
    const { page, errors } = await open(html);
    try {
      await page.click(`#sessions tbody tr[data-session="${s.session}"]`);
      await page.waitForSelector('#replay-section:not([hidden]) .xterm-rows');
      const end = await replayAt(page, 'end');
      const cast = join(casts, `session${s.session}.cast`);
      const header = JSON.parse(readFileSync(cast, 'utf8').split('\n')[0]!) as { width: number; height: number };
      const resizes = readFileSync(cast, 'utf8').split('\n').filter((l) => l.includes('"r"')).map((l) => (JSON.parse(l) as [number, string, string])[2]);
      const [cols, rows] = (resizes.at(-1) ?? `${header.width}x${header.height}`).split('x').map(Number) as [number, number];
      const expected = await render(await asciinemaCat(cast), cols, rows);
      expect(end).toEqual(expected);
      // The kubectl fixtures run `echo "got $b"` last; every TTY fixture leaves something on the screen.
      if (/^k1\d\d-exec-tty$/.test(name)) expect(end.join('\n')).toMatch(/got two/);
      expect(end.some((r) => r !== '')).toBe(true);
      // From the start: an empty screen, then playing at 10× reaches the same last screen.
      expect((await replayAt(page, 'start')).every((r) => r === '')).toBe(true);
      await page.select('#speed', '10');
      await page.click('#play');
      await page.waitForFunction(() => {
        const t = document.getElementById('terminal')!.dataset;
        return t.ready === '1' && t.position === t.end && document.getElementById('play')!.textContent!.includes('play');
      });
      expect(await screenRows(page)).toEqual(expected);
      expect(errors).toEqual([]);
      if (name === 'k133-exec-tty') {
        mkdirSync(SCREENSHOTS, { recursive: true });
        // The session view with a stdout mark clicked, and the replay's last screen.
        const stdout = await page.$('#lanes g.lane[data-role="stdout"] .mark.data');
        await stdout!.evaluate((e) => e.dispatchEvent(new MouseEvent('click', { bubbles: true })));
        await page.screenshot({ path: join(SCREENSHOTS, 'report-page.png'), fullPage: true });
        const section = await page.$('#session-section');
        await section!.screenshot({ path: join(SCREENSHOTS, 'report-session.png') });
        const term = await page.$('#replay-section');
        await term!.screenshot({ path: join(SCREENSHOTS, 'report-replay.png') });
        expect(statSync(join(SCREENSHOTS, 'report-page.png')).size).toBeGreaterThan(10_000);
      }
    } finally {
      await page.close();
    }
  });

  it("names the node of an exec through the API server's node proxy, and how it was authorized", async () => {
    // one WebSocket exec through /api/v1/nodes/{node}/proxy, written as a capture
    const server = new WebSocketFrameEncoder({ role: 'server' });
    const t0 = 1_700_000_000_000_000;
    const chunk = (direction: 'clientToServer' | 'serverToClient', bytes: Uint8Array, k: number) => ({ direction, bytes, time: t0 + k * 1000 });
    const enc = (t: string) => new TextEncoder().encode(t);
    const capture = writeSyntheticPcapng([
      {
        client: { address: '10.0.0.1', port: 40000 },
        server: { address: '10.0.0.2', port: 6443 },
        chunks: [
          chunk('clientToServer', enc('GET /api/v1/nodes/node-7/proxy/exec/ns/p/c?command=id&output=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n'), 0),
          chunk('serverToClient', enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n'), 1),
          chunk('serverToClient', server.encode({ opcode: OPCODE.BINARY, payload: new Uint8Array([1, ...enc('uid=0\n')]) }), 2),
          chunk('serverToClient', server.encode({ opcode: OPCODE.BINARY, payload: new Uint8Array([3, ...enc('{"metadata":{},"status":"Success"}')]) }), 3),
        ],
      },
    ]);
    const file = join(tmp, 'node-proxy.pcapng');
    writeFileSync(file, capture);
    const { html } = await report(file, 'node-proxy');
    const { page } = await open(html);
    try {
      await page.click('#sessions tbody tr[data-session="1"]');
      const facts = await page.$eval('#session-facts', (e) => e.textContent!);
      expect(facts).toContain('hop client-apiserver · through nodes/node-7/proxy (authorized as nodes/proxy, not pods/exec)');
    } finally {
      await page.close();
    }
  });

  it('sorts and filters the sessions list', async () => {
    const multi = all.map((f) => f).sort((a, b) => b.truth.sessions.length - a.truth.sessions.length)[0]!;
    const { html, sessions } = await report(multi.capture, 'sorting');
    const { page } = await open(html);
    try {
      const order = () => page.$$eval('#sessions tbody tr', (trs) => trs.map((tr) => Number(tr.getAttribute('data-session'))));
      const numbers = sessions.map((s) => s.session);
      expect(await order()).toEqual(numbers);
      await page.click('#sessions th[data-col="0"]');
      expect(await order()).toEqual([...numbers].reverse());
      await page.type('#filter', 'no-such-pod-anywhere');
      expect(await order()).toEqual([]);
      expect(await page.$eval('#count', (e) => e.textContent)).toBe(`0 of ${sessions.length} shown`);
    } finally {
      await page.close();
    }
  });
});

function extractIndex(dir: string): Array<{ file: string; session: number; streamId: number; direction: string }> {
  return (JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { files: Array<{ file: string; session: number; streamId: number; direction: string }> }).files;
}
