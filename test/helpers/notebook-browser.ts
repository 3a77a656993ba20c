// Debian's Chromium driven by playwright-core, with the network cut off: the pages the notebook
// tests open must render from what they carry.
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface OfflinePage {
  page: Page;
  /** Every request the page tried and was refused (e.g. an export template's CDN scripts). */
  blocked: string[];
  /** Uncaught errors and console errors on the page. */
  errors: string[];
}

/**
 * A page on which every request is aborted except `allow` (the file:// URL of the page itself, when
 * it is opened from disk rather than set as content).
 */
export async function offlinePage(browser: Browser, allow?: string): Promise<OfflinePage> {
  const page = await browser.newPage();
  const blocked: string[] = [];
  const errors: string[] = [];
  await page.route('**', (route) => {
    if (route.request().url() === allow) return route.continue();
    blocked.push(route.request().url());
    return route.abort();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  return { page, blocked, errors };
}
