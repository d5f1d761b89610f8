// Scopes (a training protocol on a base model): the fixtures hold converge on base, the default scope shown at
// the plain URLs, fixed-300 on naive (records that state no protocol), shown under scope/fixed-300/naive/, and
// converge on naive (a few records, the pretraining study's other side), under scope/converge/naive/.
// The selector links each per-scope page to the same page of the other scope, without JavaScript; links keep
// the scope; and the header fits a 390 px screen on every page.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { runKeyOfRecord } from '@peft-bench/results/record/verify';
import { allFixtureRecords, expectedBest, fixtureRecords } from './helpers.ts';

const converge = fixtureRecords();
const fixed300 = fixtureRecords({ protocol: 'fixed-300', model: 'naive' });
const convergeNaive = fixtureRecords({ protocol: 'converge', model: 'naive' });
const grid = JSON.parse(readFileSync(new URL('../../packages/results/src/methods.json', import.meta.url), 'utf8')).leaderboard_grid as { runs: number; run_keys: string[] };
const SCOPED = ['index', 'questions', 'stability', 'cost', 'rank', 'analysis', 'compare'];

test('the fixtures hold three scopes, converge on base the largest', () => {
  expect(converge.length).toBeGreaterThan(100);
  expect(fixed300.length).toBe(18);
  expect(convergeNaive.length).toBe(9);
  expect(converge.length + fixed300.length + convergeNaive.length).toBe(allFixtureRecords().length);
});

test.describe('the default scope', () => {
  test('the plain leaderboard shows converge on base, says it is the default and that its grid is in progress', async ({ page }) => {
    await page.goto('index.html');
    await expect(page.getByTestId('scope-now')).toContainText(`Protocol: converge (train to a validation plateau, best checkpoint on valid) on base, ${converge.length} runs (the default).`);
    await expect(page.getByTestId('scope-progress')).toBeVisible();
    // The grid's runs among the records (by run key; not failed): the scope's studies and calibrations are not its runs.
    const keys = new Set(grid.run_keys);
    const recorded = new Set(converge.filter((r) => r.status !== 'failed').map((r) => runKeyOfRecord(r as never)).filter((k) => keys.has(k))).size;
    expect(recorded).toBeLessThan(grid.runs);
    await expect(page.getByTestId('scope-progress')).toContainText(`the leaderboard grid is being run, ${recorded} of its ${grid.runs} runs recorded so far`);
    // The cells are the converge records' (fixed-300's LoRA scores differ).
    const e = expectedBest(converge).get('lora/nli')!;
    await expect(page.locator('#leaderboard tr[data-method="lora"] td[data-task="nli"] .v')).toHaveText(e.mean.toFixed(3));
    await expect(page.locator('#leaderboard tbody tr')).toHaveCount(new Set(converge.map((r) => r.method.id)).size);
  });

  test('cells with fewer than 3 seeds are marked', async ({ page }) => {
    await page.goto('index.html');
    const best = expectedBest(converge);
    const few = [...best].filter(([, e]) => e.n < 3).map(([k]) => k);
    expect(few).toContain('full/sql'); // one of its three seeds failed
    for (const [key, e] of best) {
      const [method, task] = key.split('/');
      const cell = page.locator(`#leaderboard tr[data-method="${method}"] td[data-task="${task}"]`);
      if (e.n < 3) await expect(cell, key).toHaveClass(/\bfew\b/);
      else await expect(cell, key).not.toHaveClass(/\bfew\b/);
    }
    await expect(page.locator('#leaderboard td.few .n').first()).toHaveCSS('color', 'rgb(163, 79, 0)');
  });
});

test.describe('the selector', () => {
  // Plain links: the same with JavaScript off.
  test.use({ javaScriptEnabled: false });

  test('lists the scopes with their run counts, marks the current one, and links to the same page of the others', async ({ page }) => {
    for (const name of SCOPED) {
      await page.goto(`${name}.html`);
      const links = page.getByTestId('scope-bar').locator('.scope-links a');
      await expect(links).toHaveText([`converge on base (${converge.length} runs), default`, `fixed-300 on naive (${fixed300.length} runs)`, `converge on naive (${convergeNaive.length} runs)`]);
      await expect(links.nth(0)).toHaveAttribute('aria-current', 'true');
      await expect(links.nth(1)).not.toHaveAttribute('aria-current', /.*/);
      await links.nth(1).click();
      await expect(page).toHaveURL(new RegExp(`/scope/fixed-300/naive/${name}\\.html$`));
      await expect(page.getByTestId('scope-now')).toContainText(`Protocol: fixed-300 (300 fixed steps, final weights) on naive, ${fixed300.length} runs.`);
      await expect(page.getByTestId('scope-progress')).toHaveCount(0);
      await expect(page.getByTestId('scope-bar').locator('.scope-links a[aria-current="true"]')).toHaveText(`fixed-300 on naive (${fixed300.length} runs)`);
      // And back.
      await page.getByTestId('scope-bar').locator('.scope-links a').nth(0).click();
      await expect(page).toHaveURL(new RegExp(`/${name}\\.html$`));
      expect(page.url()).not.toContain('/scope/');
    }
  });

  test('the other scope\'s leaderboard shows its own records only', async ({ page }) => {
    await page.goto('scope/fixed-300/naive/index.html');
    const methods = [...new Set(fixed300.map((r) => r.method.id))].sort();
    expect(methods).toEqual(['full', 'lora', 'none']);
    await expect(page.locator('#leaderboard tbody tr')).toHaveCount(methods.length);
    const best = expectedBest(fixed300);
    for (const method of methods) {
      for (const task of ['sql', 'nli']) {
        const e = best.get(`${method}/${task}`)!;
        const cell = page.locator(`#leaderboard tr[data-method="${method}"] td[data-task="${task}"]`);
        await expect(cell.locator('.v')).toHaveText(e.mean.toFixed(3));
        await expect(cell.locator('.n')).toHaveText(`n=${e.n} · ${e.k} cfg`);
      }
    }
    // Tasks without fixed-300 runs are not columns here.
    await expect(page.locator('#leaderboard th[data-task="math"]')).toHaveCount(0);
    await expect(page.locator('.site-footer')).toContainText(`${fixed300.length} runs`);
    await page.goto('scope/fixed-300/naive/questions.html');
    await expect(page.getByTestId('findings-provenance')).toContainText(`${fixed300.length} run records`);
  });
});

test('switching scope keeps the view: the query string and hash go along', async ({ page }) => {
  await page.goto('index.html?task=sql&sort=sql');
  await page.getByTestId('scope-bar').locator('.scope-links a').nth(1).click();
  await expect(page).toHaveURL(/\/scope\/fixed-300\/naive\/index\.html\?task=sql&sort=sql$/);
  await expect(page.locator('#leaderboard th[data-task="sql"]')).toBeVisible();
  await expect(page.locator('#leaderboard th[data-task="nli"]')).toBeHidden();
  await page.goto('scope/fixed-300/naive/compare.html?m=lora#chart');
  await page.getByTestId('scope-bar').locator('.scope-links a').nth(0).click();
  await expect(page).toHaveURL(/\/compare\.html\?m=lora#chart$/);
  expect(page.url()).not.toContain('/scope/');
});

test.describe('links keep the scope', () => {
  test.use({ javaScriptEnabled: false });

  test('the navigation stays in the scope for per-scope pages and goes to the single pages otherwise', async ({ page }) => {
    await page.goto('scope/fixed-300/naive/index.html');
    await page.locator('.site-header nav a', { hasText: 'Stability' }).click();
    await expect(page).toHaveURL(/\/scope\/fixed-300\/naive\/stability\.html$/);
    await expect(page.getByTestId('scope-now')).toContainText('fixed-300');
    await page.locator('.site-header nav a', { hasText: 'Runs' }).click();
    await expect(page).toHaveURL(/\/runs\.html$/);
    expect(page.url()).not.toContain('/scope/');
  });

  test('a method link from a fixed-300 page opens that method\'s fixed-300 results', async ({ page }) => {
    await page.goto('scope/fixed-300/naive/index.html');
    await page.locator('#leaderboard tr[data-method="lora"] th a').click();
    await expect(page).toHaveURL(/\/methods\/lora\.html#scope-fixed-300-naive$/);
    const section = page.locator('section#scope-fixed-300-naive');
    await expect(section.locator('h2')).toHaveText(`Protocol: fixed-300 (300 fixed steps, final weights) on naive, ${fixed300.filter((r) => r.method.id === 'lora').length} runs`);
    // Its table holds the fixed-300 LoRA runs: r=8 on sql and nli only.
    const rows = section.locator('table[id^="method-configs"] tbody tr');
    await expect(rows).toHaveCount(2);
    const e = expectedBest(fixed300).get('lora/sql')!;
    await expect(section.locator('table[id^="method-summary"] tbody tr', { hasText: 'sql' }).locator('td').nth(1)).toContainText(e.mean.toFixed(3));
    // The default scope's section is there too, first; each links to its own leaderboard.
    await expect(page.locator('section.method-scope').first()).toHaveAttribute('id', 'scope-converge-base');
    await section.getByRole('link', { name: 'Leaderboard of this scope' }).click();
    await expect(page).toHaveURL(/\/scope\/fixed-300\/naive\/index\.html$/);
  });

  test('a run page names its scope and links to that scope\'s leaderboard', async ({ page }) => {
    const run = fixed300.find((r) => r.method.id === 'lora')!;
    await page.goto(`runs/${run.run_id}.html`);
    await expect(page.getByTestId('run-scope')).toContainText('fixed-300 on naive');
    await page.getByTestId('run-scope').getByRole('link').click();
    await expect(page).toHaveURL(/\/scope\/fixed-300\/naive\/index\.html$/);
  });
});

test('Runs lists the runs of every scope and filters by scope', async ({ page }) => {
  await page.goto('runs.html?scope=fixed-300%2Fnaive');
  await expect(page.locator('#runs-filters')).toHaveAttribute('data-ready', 'true');
  await expect(page.locator('#runs-scope option')).toHaveText(['all', 'converge/base', 'converge/naive', 'fixed-300/naive']);
  await expect(page.locator('#runs-count')).toHaveText(`${fixed300.length} of ${allFixtureRecords().length} runs match`);
  for (const row of await page.locator('#runs tbody tr').all()) await expect(row.locator('td').nth(1)).toHaveText('fixed-300/naive');
  // A method link goes to that scope's section of the method's page.
  await expect(page.locator('#runs tbody tr td:nth-child(4) a').first()).toHaveAttribute('href', /methods\/[a-z-]+\.html#scope-fixed-300-naive$/);
});

test.describe('390 px', () => {
  test.use({ viewport: { width: 390, height: 844 } });
  const run = fixtureRecords()[0]!;
  const pages = [...SCOPED, 'methods', 'methods/lora', 'runs', `runs/${run.run_id}`, 'submit', 'data', 'playground',
    ...SCOPED.map((p) => `scope/fixed-300/naive/${p}`)];
  // One test per page: together they outlast one test's time limit when both cores are busy.
  for (const name of pages) {
    test(`${name}: the header fits, nothing wider than the screen, every nav link inside it`, async ({ page }) => {
      await page.goto(`${name}.html`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width, name).toBeLessThanOrEqual(390);
      for (const a of await page.locator('.site-header a').all()) {
        const box = (await a.boundingBox())!;
        expect(box.x, `${name}: ${await a.textContent()}`).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, `${name}: ${await a.textContent()}`).toBeLessThanOrEqual(390);
      }
    });
  }
});
