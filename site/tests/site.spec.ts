import { test, expect, type Page, type ConsoleMessage } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { fixtureRecords, expectedBest, emptyBase } from './helpers.ts';

const PAGES = ['index', 'stability', 'cost', 'rank', 'analysis', 'methods', 'runs', 'submit', 'data', 'methods/lora', 'methods/ln-outlier'];
const records = fixtureRecords();
const tasks = [...new Set(records.map((r) => r.task.id))];
mkdirSync('screenshots', { recursive: true });

/** Collects console errors and uncaught page errors while a page is open. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

async function chartsDrawn(page: Page): Promise<void> {
  const total = await page.locator('.vega[data-spec]').count();
  await expect(page.locator('.vega[data-rendered="true"]')).toHaveCount(total, { timeout: 20_000 });
}

test.describe('every page', () => {
  for (const name of PAGES) {
    test(`${name} loads without console errors and draws its charts`, async ({ page }) => {
      const errors = watchErrors(page);
      const response = await page.goto(`${name}.html`);
      expect(response?.status()).toBe(200);
      await expect(page.locator('h1')).toBeVisible();
      await chartsDrawn(page);
      for (const chart of await page.locator('.vega[data-spec]').all()) {
        await expect(chart.locator('svg').first()).toBeVisible();
      }
      await page.screenshot({ path: `screenshots/${name.replace('/', '-')}.png`, fullPage: true });
      expect(errors).toEqual([]);
    });
  }

  test('a run page shows its curves, and diverged and failed runs their reason', async ({ page }) => {
    const errors = watchErrors(page);
    const diverged = records.find((r) => r.status === 'diverged')!;
    await page.goto(`runs/${diverged.run_id}.html`);
    await expect(page.getByTestId('run-status')).toContainText(`diverged — ${diverged.reason}`);
    await chartsDrawn(page);
    await expect(page.locator('[data-chart="loss-curve"] svg .mark-line.role-mark path').first()).toBeVisible();
    await page.screenshot({ path: 'screenshots/run-diverged.png', fullPage: true });
    const ok = records.find((r) => r.status === 'ok' && r.method.id === 'lora')!;
    await page.goto(`runs/${ok.run_id}.html`);
    await expect(page.getByTestId('run-score')).toHaveText(ok.metrics.primary!.toFixed(4));
    await chartsDrawn(page);
    await page.screenshot({ path: 'screenshots/run-ok.png', fullPage: true });
    const failed = records.find((r) => r.status === 'failed')!;
    await page.goto(`runs/${failed.run_id}.html`);
    await expect(page.getByTestId('run-status')).toContainText('failed');
    expect(errors).toEqual([]);
  });
});

test.describe('leaderboard', () => {
  test('has one row per method with the fixture means ± std (n seeds) of the best configuration', async ({ page }) => {
    await page.goto('index.html');
    const methods = [...new Set(records.map((r) => r.method.id))];
    await expect(page.locator('#leaderboard tbody tr')).toHaveCount(methods.length);
    await expect(page.locator('#leaderboard tbody.reference tr')).toHaveCount(2); // none and full
    const best = expectedBest(records);
    let checked = 0;
    for (const method of methods) {
      for (const task of tasks) {
        const cell = page.locator(`#leaderboard tr[data-method="${method}"] td[data-task="${task}"]`);
        const e = best.get(`${method}/${task}`);
        if (!e) {
          await expect(cell.locator('.v')).toHaveText('—');
          continue;
        }
        await expect(cell.locator('.v')).toHaveText(`${e.mean.toFixed(3)} ± ${e.std.toFixed(3)}`);
        await expect(cell.locator('.n')).toHaveText(`(n=${e.n})`);
        checked += 1;
      }
    }
    // lora, ln-outlier, ln-random, lora-complement, none, full on their tasks
    expect(checked).toBe(4 + 4 + 2 + 2 + 4 + 4);
    await expect(page.getByTestId('total-time')).toContainText('train');
    await expect(page.locator('.provenance')).toContainText('wasm-blas');
    await expect(page.locator('.provenance')).toContainText('peft-bench-default');
  });

  test('columns sort both ways', async ({ page }) => {
    await page.goto('index.html');
    const values = async () => page.locator('#leaderboard tbody.main td[data-task="nli"]').evaluateAll(
      (cells) => cells.map((c) => c.getAttribute('data-sort')).filter((v) => v !== '').map(Number));
    const header = page.locator('#leaderboard th[data-col="t-nli"] button');
    await header.click();
    await expect(page.locator('#leaderboard th[data-col="t-nli"]')).toHaveAttribute('aria-sort', 'descending');
    const desc = await values();
    expect(desc.length).toBeGreaterThan(2);
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    await header.click();
    const asc = await values();
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    await page.locator('#leaderboard th[data-col="method"] button').click();
    const names = await page.locator('#leaderboard tbody.main tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-method')));
    expect(names).toEqual([...names].sort());
  });

  test('the family filter and the parameter budget filter rows and re-pick configurations', async ({ page }) => {
    await page.goto('index.html');
    await page.selectOption('#family-filter', 'selective');
    const visible = () => page.locator('#leaderboard tbody.main tr:visible').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-method')));
    expect((await visible()).sort()).toEqual(['ln-outlier', 'ln-random']);
    await expect(page.locator('#leaderboard tbody.reference tr:visible')).toHaveCount(2);
    await page.selectOption('#family-filter', '');
    await page.selectOption('#budget-filter', '1000');
    // lora's smallest configuration (r=1) trains 1024 parameters: no lora configuration fits 1000.
    expect(await visible()).not.toContain('lora');
    const best = expectedBest(records, 1000);
    for (const task of ['nli', 'math']) {
      const e = best.get(`ln-outlier/${task}`)!;
      const cell = page.locator(`#leaderboard tr[data-method="ln-outlier"] td[data-task="${task}"]`);
      await expect(cell.locator('.v')).toHaveText(`${e.mean.toFixed(3)} ± ${e.std.toFixed(3)}`);
      expect(e.trainable).toBeLessThanOrEqual(1000);
    }
    await page.screenshot({ path: 'screenshots/index-budget-1k.png', fullPage: true });
    await page.selectOption('#budget-filter', '');
    expect(await visible()).toContain('lora');
  });
});

test.describe('charts', () => {
  test('rank charts have one point per rank, heatmaps one cell per entry, pareto points per configuration', async ({ page }) => {
    await page.goto('rank.html');
    await chartsDrawn(page);
    for (const task of tasks) {
      // methods whose --rank sets n (tuned LayerNorm weights) are charted against n on the analysis page instead
      const ranks = new Set(records.filter((r) => r.task.id === task && r.method.rank !== null && r.method.config.n !== r.method.rank && r.status === 'ok')
        .map((r) => `${r.method.id}/${r.method.rank}`));
      await expect(page.locator(`[data-chart="rank-${task}"] svg .mark-symbol.role-mark path`)).toHaveCount(ranks.size);
    }
    await page.goto('analysis.html');
    await chartsDrawn(page);
    // r=8 vs r=64 similarity grid from the lora-complement run: one cell per (i, j)
    const grid = records.map((r) => (r as { analysis?: Record<string, { is?: number[]; js?: number[] }> | null }).analysis?.subspace_similarity_r8_r64).find(Boolean)!;
    await expect(page.locator('[data-chart="heatmap"]')).toHaveCount(1);
    await expect(page.locator('[data-chart="heatmap"] svg .mark-rect.role-mark path')).toHaveCount(grid.is!.length * grid.js!.length);
    // overlap with W: one matrix per analysed lora run (r=8 and r=64), a row per module
    await expect(page.locator('[data-chart="heatmap-w"]')).toHaveCount(2);
    expect(await page.locator('[data-chart="heatmap-w"]').first().locator('svg .mark-rect.role-mark path').count()).toBeGreaterThanOrEqual(3);
    await expect(page.locator('[data-chart="histogram"]').first().locator('svg .mark-rect.role-mark path')).toHaveCount(12);
    await expect(page.locator('[data-chart="ln-nli"] svg .mark-symbol.role-mark path')).toHaveCount(8);
    await expect(page.locator('[data-chart="amplification"] svg .mark-rect.role-mark path')).toHaveCount(6);
    await page.goto('cost.html');
    await chartsDrawn(page);
    const configs = new Set(records.filter((r) => r.task.id === 'nli' && r.status === 'ok' && r.params.trainable > 0)
      .map((r) => JSON.stringify([r.method.id, r.method.config, r.training])));
    await expect(page.locator('[data-chart="pareto-nli"] svg .mark-symbol.role-mark path')).toHaveCount(configs.size);
    await page.goto('stability.html');
    await chartsDrawn(page);
    await expect(page.locator('[data-chart="lr-math"] svg .mark-line.role-mark path').first()).toBeVisible();
    // one bar per (method, task) with a finished run; most have height 0
    const finishedPairs = new Set(records.filter((r) => r.status !== 'failed').map((r) => `${r.method.id}/${r.task.id}`));
    await expect(page.locator('[data-chart="divergence"] svg .mark-rect.role-mark path')).toHaveCount(finishedPairs.size);
  });
});

test.describe('links and data', () => {
  test('every internal link resolves (crawl from the leaderboard)', async ({ request, baseURL }) => {
    const seen = new Set<string>();
    const queue = [new URL('index.html', baseURL).href];
    while (queue.length) {
      const url = queue.shift()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const res = await request.get(url);
      expect(res.status(), url).toBe(200);
      if (!url.endsWith('.html')) continue;
      const html = await res.text();
      for (const m of html.matchAll(/\b(?:href|src)="([^"#]+)[^"]*"/g)) {
        const target = new URL(m[1].replace(/&amp;/g, '&'), url);
        if (target.origin !== new URL(baseURL!).origin) continue;
        if (!seen.has(target.href)) queue.push(target.href);
      }
    }
    // index + 10 other pages + one page per method and per run + downloads + the chart script
    expect(seen.size).toBeGreaterThan(records.length + 6);
    const runPages = [...seen].filter((u) => /\/runs\/[0-9a-f]+\.html$/.test(u));
    expect(runPages).toHaveLength(records.length);
  });

  test('downloads and the list of skipped files', async ({ page, request }) => {
    await page.goto('data.html');
    await expect(page.locator('#problems')).toContainText('corrupt-half-written.json');
    await expect(page.locator('#problems')).toContainText('not valid JSON');
    await expect(page.locator('#problems')).toContainText('foreign-package.json');
    const csv = await (await request.get('data/leaderboard.csv')).text();
    expect(csv.split('\n')[0]).toBe('method,family,task,task_family,metric,mean,std,n,best_config,best_lr,trainable');
    const json = await (await request.get('data/aggregated.json')).json();
    expect(json.recordCount).toBe(records.length);
    expect(json.problems.map((p: { path: string }) => p.path).sort()).toEqual(['corrupt-half-written.json', 'foreign-package.json']);
  });

  test('an empty results directory builds a site that says so on every page', async ({ page }) => {
    const errors = watchErrors(page);
    for (const name of ['index', 'stability', 'cost', 'rank', 'analysis', 'methods', 'runs', 'data', 'submit']) {
      await page.goto(`${emptyBase()}${name}.html`);
      await expect(page.getByRole('heading', { name: 'No results yet' })).toBeVisible();
      if (name === 'index') await page.screenshot({ path: 'screenshots/empty-index.png', fullPage: true });
    }
    expect(errors).toEqual([]);
  });
});

test('the built site also works opened from disk (file://): charts draw, links are relative', async ({ page }) => {
  const errors = watchErrors(page);
  const { pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  await page.goto(pathToFileURL(resolve('dist-test/cost.html')).href);
  await chartsDrawn(page);
  await expect(page.locator('[data-chart="pareto-nli"] svg .mark-symbol.role-mark path').first()).toBeVisible();
  await page.locator('a', { hasText: 'Leaderboard' }).first().click();
  await expect(page.locator('#leaderboard')).toBeVisible();
  expect(page.url()).toMatch(/^file:.*\/dist-test\/index\.html$/);
  expect(errors).toEqual([]);
});
