// The HTML report in a real browser: headless Chromium (Debian's package,
// driven by playwright-core) loads it, shows no console error, decodes
// every image, shows the contents, every chart beside its tables and the
// environment collapsed, and leaves a screenshot in the test's temp dir. Skips with
// the reason when Chromium is not installed.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderCharts } from '../../reports/charts.js';
import { htmlReport } from '../../reports/html.js';
import { sampleResults } from './fixtures.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`;

describe('HTML report in headless Chromium', { skip, timeout: 120_000 }, () => {
  it('renders with no console error, every image decoded, JavaScript off', async () => {
    const { chromium } = await import('playwright-core');
    const dir = mkdtempSync(join(tmpdir(), 'iou-browser-'));
    const r = await sampleResults();
    const { charts, error } = await renderCharts(r);
    const page = join(dir, 'report.html');
    writeFileSync(page, htmlReport(r, charts, error));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    try {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const tab = await context.newPage();
      const problems: string[] = [];
      tab.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      tab.on('pageerror', (e) => problems.push(e.message));
      tab.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
      await tab.goto(`file://${page}`, { waitUntil: 'load' });
      const images = await tab.$$eval('img', (imgs) =>
        imgs.map((i) => i.complete && i.naturalWidth > 0),
      );
      assert.ok(images.length >= 2, 'charts present');
      assert.deepEqual(
        images.filter((ok) => !ok),
        [],
        'every image decoded',
      );
      assert.equal(await tab.locator('h2', { hasText: 'Headline findings' }).count(), 1);
      // Contents first, every chart beside its lane's tables, the environment collapsed.
      assert.ok(await tab.locator('nav.toc').isVisible());
      assert.equal(await tab.locator('.pair .figures img').count(), images.length);
      assert.equal(await tab.locator('details.environment table').first().isVisible(), false);
      assert.ok(await tab.locator('details.environment summary').isVisible());
      const shot = join(dir, 'report.png');
      await tab.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 10_000, `screenshot at ${shot}`);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
});
