// Findability: downloads that resolve, views restored from the URL, search on Runs, the mobile layout, and
// accessibility checks (axe-core, run inside the page from node_modules, offline).
import { test, expect, type Page } from '@playwright/test';
import { createRequire } from 'node:module';
import { allFixtureRecords, fixtureRecords, expectedBest } from './helpers.ts';

const records = fixtureRecords();
const REFERENCE = ['none', 'full'];

/** Visible competitor rows of the leaderboard, top to bottom. */
const mainOrder = (page: Page) => page.locator('#leaderboard tbody.main tr:visible').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-method')!));

test.describe('data downloads', () => {
  test('every download listed on the Data page resolves, with the size the page states', async ({ page }) => {
    await page.goto('data.html');
    const links = page.locator('#downloads a[download]');
    expect(await links.count()).toBeGreaterThanOrEqual(8);
    for (const link of await links.all()) {
      const href = await link.getAttribute('href');
      const url = new URL(href!, page.url()).href;
      const res = await page.request.get(url);
      expect(res.status(), url).toBe(200);
      const body = await res.body();
      const stated = Number(await link.locator('xpath=ancestor::tr/td[@data-bytes]').getAttribute('data-bytes'));
      expect(body.length, url).toBe(stated);
      if (url.endsWith('.json')) expect(() => JSON.parse(body.toString())).not.toThrow();
    }
    // the leaderboard CSV names the varying hyperparameters only, never the task settings
    const csv = await (await page.request.get(new URL('data/leaderboard.csv', page.url()).href)).text();
    expect(csv).toContain('r=');
    expect(csv).not.toContain('task.');
    // a click on a listed file downloads it
    const [download] = await Promise.all([page.waitForEvent('download'), links.first().click()]);
    expect(download.suggestedFilename()).toBe('aggregated.json');
  });

  test('a run page links its raw record, and the link resolves to that record', async ({ page }) => {
    const r = records.find((x) => x.status === 'ok')!;
    await page.goto(`runs/${r.run_id}.html`);
    const href = await page.getByTestId('raw-record').getAttribute('href');
    const res = await page.request.get(new URL(href!, page.url()).href);
    expect(res.status()).toBe(200);
    expect((await res.json()).run_id).toBe(r.run_id);
  });

  test('Submit links CONTRIBUTING and every page links the repository', async ({ page }) => {
    await page.goto('submit.html');
    await expect(page.getByTestId('contributing')).toHaveAttribute('href', /\/CONTRIBUTING\.md$/);
    await expect(page.locator('header a.repo-link')).toHaveAttribute('href', /^https:\/\/github\.com\//);
  });
});

test.describe('leaderboard views in the URL', () => {
  test('?task=sql&sort=math&budget=1000 restores the order and the highlight', async ({ page }) => {
    await page.goto('./?task=sql&sort=math&budget=1000');
    await expect(page.locator('#task-filter')).toHaveValue('sql');
    await expect(page.locator('#budget-filter')).toHaveValue('1000');
    await expect(page.locator('#leaderboard th[data-col="t-math"]')).toHaveAttribute('aria-sort', 'descending');
    // shown: sql (the filter) and math (sorted by); not the other tasks
    await expect(page.locator('#leaderboard th[data-task="sql"]')).toBeVisible();
    await expect(page.locator('#leaderboard th[data-task="math"]')).toBeVisible();
    await expect(page.locator('#leaderboard th[data-task="nli"]')).toBeHidden();
    const best = expectedBest(records, 1000);
    const competitors = [...new Set(records.map((r) => r.method.id))].filter((m) => !REFERENCE.includes(m));
    const withMath = competitors.filter((m) => best.has(`${m}/math`)).sort((a, b) => best.get(`${b}/math`)!.mean - best.get(`${a}/math`)!.mean);
    expect(withMath.length).toBeGreaterThanOrEqual(2);
    const order = await mainOrder(page);
    expect(order.slice(0, withMath.length)).toEqual(withMath);
    // methods with no configuration within the budget on the shown tasks are not listed
    for (const m of competitors.filter((x) => !best.has(`${x}/math`) && !best.has(`${x}/sql`))) expect(order).not.toContain(m);
    // the best in the math column is highlighted; tied ones (95% intervals overlapping the best's) are marked
    const top = best.get(`${withMath[0]}/math`)!;
    await expect(page.locator('#leaderboard td.best[data-task="math"]')).toHaveCount(1);
    await expect(page.locator(`#leaderboard tr[data-method="${withMath[0]}"] td[data-task="math"]`)).toHaveClass(/\bbest\b/);
    for (const m of withMath.slice(1)) {
      const e = best.get(`${m}/math`)!;
      const tied = e.mean + e.half >= top.mean - top.half;
      await expect(page.locator(`#leaderboard tr[data-method="${m}"] td[data-task="math"]`)).toHaveClass(tied ? /\btied\b/ : /^(?!.*\btied\b)/);
    }
  });

  test('the configuration toggle switches to each method at its documented defaults, kept in the URL', async ({ page }) => {
    await page.goto('./');
    await expect(page.locator('#mode-filter')).toHaveValue('tuned');
    const lora = page.locator('#leaderboard tr[data-method="lora"] td[data-task="nli"]');
    await expect(lora.locator('.v')).not.toHaveText('—');
    // Seed-only intervals (the fixtures carry no per-example scores) are marked.
    await expect(lora.locator('.ik')).toHaveText('†');
    await expect(lora).toHaveAttribute('title', /over seed means only/);
    await page.locator('#mode-filter').selectOption('defaults');
    await expect(page).toHaveURL(/[?&]view=defaults/);
    await expect(page.locator('#leaderboard')).toHaveAttribute('data-mode', 'defaults');
    // No fixture run is at lora's documented defaults (default lr and lora_alpha): nothing is shown instead of a tuned score.
    await expect(page.locator('#leaderboard tr[data-method="lora"]')).toBeHidden();
    await page.goto('./?view=defaults');
    await expect(page.locator('#mode-filter')).toHaveValue('defaults');
    await page.locator('#mode-filter').selectOption('tuned');
    await expect(page).not.toHaveURL(/view=/);
    await expect(lora.locator('.v')).not.toHaveText('—');
  });

  test('sorting, then filtering, keeps the sort; the URL keeps both and restores them', async ({ page }) => {
    await page.goto('index.html');
    await expect(page.locator('#leaderboard th[data-col="overall"]')).toHaveAttribute('aria-sort', 'ascending');
    await page.locator('#leaderboard th[data-col="t-math"] button').click();
    await page.selectOption('#budget-filter', '1000');
    const best = expectedBest(records, 1000);
    const mathValues = async () => page.locator('#leaderboard tbody.main tr:visible td[data-task="math"] .v').evaluateAll(
      (cells) => cells.map((c) => c.textContent!.trim()).filter((v) => v !== '—').map(Number));
    const values = await mathValues();
    expect(values.length).toBeGreaterThanOrEqual(2);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    expect(values[0]).toBeCloseTo(Math.max(...[...best].filter(([k]) => k.endsWith('/math') && !REFERENCE.includes(k.split('/')[0])).map(([, e]) => e.mean)), 3);
    await expect(page).toHaveURL(/[?&]sort=math\b/);
    await expect(page).toHaveURL(/[?&]budget=1000\b/);
    await page.selectOption('#family-filter', 'selective');
    const order = await mainOrder(page);
    // permalink: a fresh page at this URL shows the same view
    const url = page.url();
    const permalink = await page.locator('#board-permalink').getAttribute('href');
    expect(new URL(permalink!, url).href).toBe(url);
    await page.goto(url);
    await expect(page.locator('#family-filter')).toHaveValue('selective');
    expect(await mainOrder(page)).toEqual(order);
    const after = await mathValues();
    expect(after).toEqual([...after].sort((a, b) => b - a));
  });
});

test.describe('runs', () => {
  test('search, filters and pages; the URL restores the view', async ({ page }) => {
    await page.goto('runs.html');
    await expect(page.locator('#runs-filters')).toHaveAttribute('data-ready', 'true');
    // The runs of every scope are listed.
    const all = allFixtureRecords();
    await expect(page.locator('#runs-count')).toHaveText(`${all.length} of ${all.length} runs match`);
    await expect(page.locator('#runs tbody tr')).toHaveCount(50);
    await page.locator('#runs-next').click();
    await expect(page.locator('#runs-page')).toHaveText(`page 2 of ${Math.ceil(all.length / 50)}`);
    await page.fill('#runs-q', 'diverged');
    const diverged = records.filter((r) => r.status === 'diverged');
    await expect(page.locator('#runs tbody tr')).toHaveCount(diverged.length);
    for (const row of await page.locator('#runs tbody tr').all()) await expect(row.locator('td').nth(2)).toHaveText('diverged');
    await page.fill('#runs-q', '');
    await page.selectOption('#runs-method', 'lora');
    await page.selectOption('#runs-seed', '1');
    await page.selectOption('#runs-task', 'math');
    const expected = records.filter((r) => r.method.id === 'lora' && r.seed === 1 && r.task.id === 'math');
    await expect(page.locator('#runs tbody tr')).toHaveCount(expected.length);
    await page.locator('#runs th[data-col="primary"] button').click();
    await page.locator('#runs th[data-col="primary"] button').click();
    await expect(page).toHaveURL(/method=lora.*seed=1.*sort=primary&dir=desc/);
    const scores = () => page.locator('#runs tbody tr td:nth-child(9)').evaluateAll((cells) => cells.map((c) => Number(c.textContent)));
    const desc = await scores();
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    expect(desc[0]).toBeCloseTo(Math.max(...expected.filter((r) => r.status === 'ok').map((r) => r.metrics.primary!)), 3);
    await page.goto(page.url());
    await expect(page.locator('#runs-filters')).toHaveAttribute('data-ready', 'true');
    await expect(page.locator('#runs-method')).toHaveValue('lora');
    await expect(page.locator('#runs tbody tr')).toHaveCount(expected.length);
    expect(await scores()).toEqual(desc);
    // a run id typed into the search finds that run
    await page.goto(`runs.html?q=${records[5].run_id.slice(0, 10)}`);
    await expect(page.locator('#runs tbody tr')).toHaveCount(1);
    await expect(page.locator('#runs tbody tr a').first()).toHaveAttribute('href', new RegExp(`${records[5].run_id}\\.html$`));
  });
});

test.describe('compare', () => {
  test('chosen methods side by side on every task, with rank curves; the URL keeps the choice', async ({ page }) => {
    await page.goto('compare.html?m=lora,ln-outlier');
    await expect(page.locator('#compare-form input[value="lora"]')).toBeChecked();
    await expect(page.locator('#compare-form input[value="ln-outlier"]')).toBeChecked();
    await expect(page.locator('#compare-form input[value="full"]')).not.toBeChecked();
    await expect(page.locator('#compare-scores thead th[data-method]')).toHaveCount(2);
    const best = expectedBest(records);
    for (const task of ['nli', 'math']) {
      for (const m of ['lora', 'ln-outlier']) {
        const e = best.get(`${m}/${task}`)!;
        await expect(page.locator(`#compare-scores tr[data-task="${task}"] td[data-method="${m}"] .v`)).toHaveText(e.mean.toFixed(3));
        await expect(page.locator(`#compare-scores tr[data-task="${task}"] td[data-method="${m}"] .iv`)).toHaveText(`± ${e.std.toFixed(3)}`);
      }
      const winner = best.get(`lora/${task}`)!.mean > best.get(`ln-outlier/${task}`)!.mean ? 'lora' : 'ln-outlier';
      await expect(page.locator(`#compare-scores tr[data-task="${task}"] td.best`)).toHaveAttribute('data-method', winner);
    }
    // one point per rank (lora) and per n (ln-outlier) on the math chart
    const points = new Set(records.filter((r) => r.task.id === 'math' && r.status === 'ok' && ['lora', 'ln-outlier'].includes(r.method.id) && r.method.rank !== null && r.training.steps !== 0)
      .map((r) => `${r.method.id}/${r.method.rank}`));
    const chart = page.locator('[data-chart="compare-rank-math"]');
    await chart.scrollIntoViewIfNeeded();
    await expect(chart.locator('svg .mark-symbol.role-mark path')).toHaveCount(points.size, { timeout: 20_000 });
    await page.locator('#compare-form input[value="full"]').check();
    await expect(page).toHaveURL(/[?&]m=full,lora,ln-outlier$/);
    await expect(page.locator('#compare-scores thead th[data-method]')).toHaveCount(3);
  });
});

test.describe('mobile (390 px)', () => {
  test.use({ viewport: { width: 390, height: 844 } });
  test('the table is on the first screen and the method column stays put while the table scrolls', async ({ page }) => {
    await page.goto('index.html');
    const firstRow = page.locator('#leaderboard tbody.main tr').first();
    const box = await firstRow.boundingBox();
    expect(box!.y + box!.height).toBeLessThan(844);
    const wrap = page.locator('.board-wrap');
    const method = firstRow.locator('th[data-col="method"]');
    const before = (await method.boundingBox())!.x;
    const scrollable = await wrap.evaluate((el) => el.scrollWidth > el.clientWidth);
    expect(scrollable).toBe(true);
    await wrap.evaluate((el) => { el.scrollLeft = 200; });
    await expect.poll(async () => (await wrap.evaluate((el) => el.scrollLeft))).toBeGreaterThan(100);
    expect((await method.boundingBox())!.x).toBeCloseTo(before, 0);
    await expect(method).toBeVisible();
    await page.screenshot({ path: 'screenshots/index-390.png' });
  });
  test('rank charts are redrawn to fit the screen, legends below, and keep every method in the legend', async ({ page }) => {
    await page.goto('rank.html');
    const charts = page.locator('.vega');
    expect(await charts.count()).toBeGreaterThan(0);
    for (const chart of await charts.all()) {
      await chart.scrollIntoViewIfNeeded();
      await expect(chart).toHaveAttribute('data-rendered', 'true', { timeout: 20_000 });
      const [svg, box] = await chart.evaluate((el) => [el.querySelector('svg')!.getBoundingClientRect().width, el.clientWidth]);
      expect(svg, await chart.locator('xpath=..').getAttribute('data-chart')).toBeLessThanOrEqual(box + 1);
      // Nothing drawn outside the svg: the legend's and the axis title's text end inside it.
      const overflow = await chart.evaluate((el) => {
        const right = el.querySelector('svg')!.getBoundingClientRect().right;
        return [...el.querySelectorAll('svg text')].filter((t) => t.getBoundingClientRect().right > right + 1).map((t) => t.textContent);
      });
      expect(overflow, await chart.locator('xpath=..').getAttribute('data-chart')).toEqual([]);
    }
    await page.screenshot({ path: 'screenshots/rank-390.png', fullPage: true });
  });
  test('the φ grids and overlap heatmaps (sized per cell) are narrowed to fit, every cell and its label kept', async ({ page }) => {
    await page.goto('analysis.html');
    const charts = page.locator('[data-chart="subspace-mean"] .vega, [data-chart^="overlap-w-"] .vega');
    expect(await charts.count()).toBeGreaterThan(0);
    for (const chart of await charts.all()) {
      const name = await chart.locator('xpath=..').getAttribute('data-chart');
      await chart.scrollIntoViewIfNeeded();
      await expect(chart).toHaveAttribute('data-rendered', 'true', { timeout: 20_000 });
      const [svg, box] = await chart.evaluate((el) => [el.querySelector('svg')!.getBoundingClientRect().width, el.clientWidth]);
      expect(svg, name).toBeLessThanOrEqual(box + 1);
      // A φ grid keeps one label per cell, each inside its cell.
      if (name === 'subspace-mean') {
        const [cells, labels, outside] = await chart.evaluate((el) => {
          const rects = [...el.querySelectorAll('svg .mark-rect.role-mark path')].map((r) => r.getBoundingClientRect());
          const texts = [...el.querySelectorAll('svg .mark-text.role-mark text')].map((t) => t.getBoundingClientRect());
          return [rects.length, texts.length, texts.filter((t) => !rects.some((r) => t.left >= r.left - 1 && t.right <= r.right + 1 && t.top >= r.top - 1 && t.bottom <= r.bottom + 1)).length];
        });
        expect(labels, name).toBe(cells);
        expect(outside, name).toBe(0);
      }
    }
    await page.screenshot({ path: 'screenshots/analysis-390.png', fullPage: true });
  });
});

test.describe('accessibility', () => {
  const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  const run = records.find((r) => r.status === 'ok')!;
  for (const name of ['index', 'runs', 'data', 'submit', 'rank', 'compare', 'methods/lora', `runs/${run.run_id}`]) {
    test(`${name} has no axe violations (contrast aside)`, async ({ page }) => {
      await page.goto(`${name}.html`);
      await page.addScriptTag({ path: axePath });
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
        const result = await axe.run(document, { rules: { 'color-contrast': { enabled: false } } });
        return result.violations.map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
      });
      expect(violations).toEqual([]);
    });
  }
});
