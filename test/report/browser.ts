/**
 * The report opened in a real browser (Debian's Chromium through
 * puppeteer-core), from disk, for the report tests.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';

export function findChromium(): string | null {
  for (const c of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (c && existsSync(c)) return c;
  return null;
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  const puppeteer = (await import('puppeteer-core')).default;
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

export interface OpenedReport {
  page: Page;
  errors: string[];
  requests: string[];
  loadMs: number;
}

/** Open the report from disk, recording console errors, page errors and every request but the file itself. */
export async function openReport(browser: Browser, file: string): Promise<OpenedReport> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors: string[] = [];
  const requests: string[] = [];
  const url = pathToFileURL(file).href;
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${(e as Error).message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  const t0 = performance.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#sessions tbody tr, #no-sessions:not([hidden])');
  return { page, errors, requests, loadMs: performance.now() - t0 };
}
