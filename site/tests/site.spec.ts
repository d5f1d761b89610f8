import { test, expect, type Page, type ConsoleMessage } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { allFixtureRecords, fixtureRecords, expectedBest, emptyBase, configKey, type FixtureRecord } from './helpers.ts';

const PAGES = ['index', 'questions', 'stability', 'cost', 'rank', 'analysis', 'methods', 'runs', 'submit', 'data', 'methods/lora', 'methods/ln-outlier', 'compare'];
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

/** Charts draw when scrolled near: bring each into view, then wait until every one has drawn. */
async function chartsDrawn(page: Page): Promise<void> {
  const charts = await page.locator('.vega').all();
  for (const chart of charts) await chart.scrollIntoViewIfNeeded();
  await expect(page.locator('.vega[data-rendered="true"]')).toHaveCount(charts.length, { timeout: 20_000 });
}

test.describe('every page', () => {
  for (const name of PAGES) {
    test(`${name} loads without console errors and draws its charts`, async ({ page }) => {
      const errors = watchErrors(page);
      const response = await page.goto(`${name}.html`);
      expect(response?.status()).toBe(200);
      await expect(page.locator('h1')).toBeVisible();
      await chartsDrawn(page);
      for (const chart of await page.locator('.vega').all()) {
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
    const samples = page.getByTestId('run-samples').locator('details');
    await expect(samples).toHaveCount(ok.samples!.length);
    await expect(samples.nth(0).locator('summary')).toContainText('matches the reference');
    await expect(samples.nth(1).locator('summary')).toContainText('differs from the reference');
    await chartsDrawn(page);
    await page.screenshot({ path: 'screenshots/run-ok.png', fullPage: true });
    const failed = records.find((r) => r.status === 'failed')!;
    await page.goto(`runs/${failed.run_id}.html`);
    await expect(page.getByTestId('run-status')).toContainText('failed');
    expect(errors).toEqual([]);
  });
});

test.describe('leaderboard', () => {
  test('has one row per method with the test mean, 95% interval, seeds and configurations searched of the configuration chosen on valid', async ({ page }) => {
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
        await expect(cell.locator('.v')).toHaveText(e.mean.toFixed(3));
        await expect(cell.locator('.iv')).toHaveText(e.n > 1 ? `± ${e.half.toFixed(3)}` : '');
        await expect(cell.locator('.n')).toHaveText(`n=${e.n} · ${e.k} cfg`);
        checked += 1;
      }
    }
    // lora, ln-outlier, ln-random, lora-complement, none, full, bitfit and ia3 (learning-rate search runs) on their tasks
    expect(checked).toBe(4 + 4 + 2 + 2 + 4 + 4 + 4 + 2);
    await expect(page.getByTestId('total-time')).toContainText('train');
    await page.locator('details.provenance summary').click();
    await expect(page.locator('.provenance')).toContainText('wasm-blas');
    await expect(page.locator('.provenance')).toContainText('base (hash 9f2c41aa');
  });

  test('says which task columns can be read as a ranking: full fine-tuning against the frozen base, and the methods\' spread', async ({ page }) => {
    await page.goto('index.html');
    const best = expectedBest(records);
    const section = page.getByTestId('task-separation');
    await expect(section.locator('tbody tr')).toHaveCount(tasks.length);
    let judged = 0;
    for (const task of tasks) {
      const row = section.locator(`tr[data-task-separation="${task}"]`);
      const frozen = best.get(`none/${task}`);
      const full = best.get(`full/${task}`);
      const header = page.locator(`#leaderboard th[data-col="t-${task}"]`);
      if (!frozen || !full) {
        await expect(row.locator('td').nth(2)).toHaveText('—');
        continue;
      }
      await expect(row.locator('td').nth(0)).toHaveText(frozen.mean.toFixed(3));
      await expect(row.locator('td').nth(1)).toHaveText(full.mean.toFixed(3));
      const calibrated = full.mean - frozen.mean >= 0.3 && full.mean <= 0.95;
      await expect(row.locator('td').nth(2)).toHaveText(calibrated ? 'yes' : /^no: full fine-tuning /);
      await expect(header.locator('a.uncalibrated')).toHaveCount(calibrated ? 0 : 1);
      judged += 1;
    }
    expect(judged).toBeGreaterThan(0);
  });

  test('columns sort both ways', async ({ page }) => {
    await page.goto('index.html');
    const values = async () => page.locator('#leaderboard tbody.main tr:visible td[data-task="nli"] .v').evaluateAll(
      (cells) => cells.map((c) => c.textContent!.trim()).filter((v) => v !== '—').map(Number));
    const header = page.locator('#leaderboard th[data-col="t-nli"] button');
    await header.click();
    await expect(page.locator('#leaderboard th[data-col="t-nli"]')).toHaveAttribute('aria-sort', 'descending');
    const desc = await values();
    expect(desc.length).toBeGreaterThan(2);
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    await header.click();
    await expect(page.locator('#leaderboard th[data-col="t-nli"]')).toHaveAttribute('aria-sort', 'ascending');
    const asc = await values();
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    await page.locator('#leaderboard th[data-col="method"] button').click();
    const names = await page.locator('#leaderboard tbody.main tr th[data-col="method"] a').evaluateAll((links) => links.map((a) => a.textContent!.trim().toLowerCase()));
    expect(names).toEqual([...names].sort());
  });

  test('the family filter and the parameter budget filter rows and re-pick configurations', async ({ page }) => {
    await page.goto('index.html');
    await page.selectOption('#family-filter', 'selective');
    const visible = () => page.locator('#leaderboard tbody.main tr:visible').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-method')));
    expect((await visible()).sort()).toEqual(['bitfit', 'ln-outlier', 'ln-random']);
    await expect(page.locator('#leaderboard tbody.reference tr:visible')).toHaveCount(2);
    await page.selectOption('#family-filter', '');
    await page.selectOption('#budget-filter', '1000');
    // lora's smallest configuration (r=1) trains 1024 parameters: no lora configuration fits 1000.
    expect(await visible()).not.toContain('lora');
    const best = expectedBest(records, 1000);
    for (const task of ['nli', 'math']) {
      const e = best.get(`ln-outlier/${task}`)!;
      const cell = page.locator(`#leaderboard tr[data-method="ln-outlier"] td[data-task="${task}"]`);
      await expect(cell.locator('.v')).toHaveText(e.mean.toFixed(3));
      await expect(cell.locator('.iv')).toHaveText(e.n > 1 ? `± ${e.half.toFixed(3)}` : '');
      await expect(cell.locator('.n')).toHaveText(`n=${e.n} · ${e.k} cfg`);
      expect(e.trainable).toBeLessThanOrEqual(1000);
    }
    await page.screenshot({ path: 'screenshots/index-budget-1k.png', fullPage: true });
    await page.selectOption('#budget-filter', '');
    expect(await visible()).toContain('lora');
  });
});

test.describe('questions', () => {
  test('one section per question, with the rank sweep computed from the records', async ({ page }) => {
    await page.goto('questions.html');
    await expect(page.locator('section.question h2')).toHaveText([
      '1. Does a low rank suffice?', '2. What lives outside the top directions?', '3. Can a small update be grown into a large one?',
      '4. How much do LayerNorm weights carry?', '5. Which methods are stable?', '6. How much does pretraining coverage matter?',
      '7. Does the batch size change convergence?', '8. Which layers should LoRA target?', '9. Does LoRA diverge at high learning rates?',
    ]);
    await expect(page.getByTestId('findings-provenance')).toContainText(`${records.length} run records`);
    // The fixtures hold none of three studies' runs (one batch size, LoRA only on q,v with lora_alpha 16, every rate
    // below the default): each says so, and names the grid that holds its runs.
    for (const [id, empty, grid] of [
      ['batch-size', 'No LoRA r=8 or full fine-tuning runs at two batch sizes yet.', 'pnpm bench --grid study-batch-size'],
      ['targets', 'No LoRA runs on q,v beside runs on every linear layer yet.', 'pnpm bench --grid leaderboard --experiments targets-qv,targets-all-linear'],
      ['lr', 'No LoRA r=8 or full fine-tuning runs above their declared learning rate yet.', 'pnpm bench --grid study-lr'],
    ]) {
      const section = page.locator(`section#${id}`);
      await expect(section.locator('p', { hasText: empty })).toBeVisible();
      await expect(section.locator('table')).toHaveCount(0);
      await expect(section.getByTestId('study-grid').locator('code')).toHaveText(grid!);
    }
    await expect(page.locator('#pretraining').getByTestId('study-grid').locator('code')).toHaveText('pnpm bench --grid study-pretraining');
    // The first task's rank table: lora at r=1 is the mean over its ok seeds, as the table prints it.
    const table = page.locator('#rank .table-wrap').nth(0);
    const header = await table.locator('thead th').allTextContents();
    const row = table.locator('tbody tr').filter({ has: page.locator('td:first-child', { hasText: /^lora$/ }) });
    const cells = await row.locator('td').allTextContents();
    const task = (await page.locator('#rank h3').first().textContent())!.split(' ')[0];
    const expected = records.filter((r) => r.method.id === 'lora' && r.task.id === task && r.method.rank === 1 && r.status === 'ok').map((r) => r.metrics.primary!);
    expect(header[1]).toBe('r=1');
    expect(cells[1].startsWith((expected.reduce((s, v) => s + v, 0) / expected.length).toFixed(3))).toBe(true);
    expect(cells[1]).toContain(`(${expected.length})`);
    await page.locator('#stability a').click();
    await expect(page).toHaveURL(/stability\.html$/);
  });
});

test.describe('pretraining coverage', () => {
  // Converge on naive (a scope of its own) against the default scope, converge on base: the study reads the other
  // scope's aggregate, so its naive numbers reach the default scope's page, and base's reach naive's.
  const naive = fixtureRecords({ protocol: 'converge', model: 'naive' });
  const meanOf = (rs: FixtureRecord[], method: string) => {
    const v = rs.filter((r) => r.method.id === method && r.task.id === 'nli' && r.status === 'ok').map((r) => r.metrics.primary!);
    return v.reduce((s, x) => s + x, 0) / v.length;
  };
  const [frozen, full, lora] = ['none', 'full', 'lora'].map((m) => meanOf(naive, m));
  const share = `${(((lora! - frozen!) / (full! - frozen!)) * 100).toFixed(0)}%`;
  for (const at of ['questions.html', 'scope/converge/naive/questions.html']) {
    test(`${at} puts each method's naive score beside base's, with the share of full fine-tuning's gain`, async ({ page }) => {
      await page.goto(at);
      const table = page.locator('#pretraining .table-wrap').first();
      await expect(page.locator('#pretraining h3').first()).toHaveText('nli (acc)');
      await expect(table.locator('thead th')).toHaveText(['method', 'naive', 'base', "share of full's gain, naive", "share of full's gain, base"]);
      const row = (label: string) => table.locator('tbody tr').filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^${label.replace(/[()=]/g, '\\$&')}$`) }) }).locator('td');
      await expect(row('frozen').nth(1)).toContainText(`${frozen!.toFixed(3)} ± `);
      await expect(row('frozen').nth(2)).toContainText(`${meanOf(records, 'none').toFixed(3)} ± `);
      await expect(row('lora r=8').nth(1)).toContainText(`${lora!.toFixed(3)} ± `);
      await expect(row('lora r=8').nth(3)).toHaveText(share);
      // Base's full fine-tuning and LoRA fixtures are not at their defaults (another learning rate, q,v with lora_alpha 16).
      await expect(row('lora r=8').nth(2)).toHaveText('—');
      await expect(row('lora r=8').nth(4)).toHaveText('—');
    });
  }
});

test.describe('charts', () => {
  test('rank charts have one point per rank, pareto points per configuration', async ({ page }) => {
    await page.goto('rank.html');
    await chartsDrawn(page);
    for (const task of tasks) {
      // methods whose --rank sets n (tuned LayerNorm weights) are charted against n on the analysis page instead,
      // and runs scored without training (steps 0) are not points of accuracy against rank
      const ranks = new Set(records.filter((r) => r.task.id === task && r.method.rank !== null && r.method.config.n !== r.method.rank && r.status === 'ok' && r.training.steps !== 0)
        .map((r) => `${r.method.id}/${r.method.rank}`));
      await expect(page.locator(`[data-chart="rank-${task}"] svg .mark-symbol.role-mark path`)).toHaveCount(ranks.size);
    }
    await page.goto('cost.html');
    await chartsDrawn(page);
    const byId = new Map(records.map((r) => [r.run_id, r]));
    const configs = new Set(records.filter((r) => r.task.id === 'nli' && r.status === 'ok' && r.params.trainable > 0).map((r) => configKey(r, byId)));
    await expect(page.locator('[data-chart="pareto-nli"] svg .mark-symbol.role-mark path')).toHaveCount(configs.size);
    await page.goto('stability.html');
    await chartsDrawn(page);
    await expect(page.locator('[data-chart="lr-math"] svg .mark-line.role-mark path').first()).toBeVisible();
    // one bar per (method, task) with a finished run; most have height 0
    const finishedPairs = new Set(records.filter((r) => r.status !== 'failed').map((r) => `${r.method.id}/${r.task.id}`));
    await expect(page.locator('[data-chart="divergence"] svg .mark-rect.role-mark path')).toHaveCount(finishedPairs.size);
  });
});

test.describe('analysis page', () => {
  interface Grid { is: number[]; js: number[]; phi: number[][] }
  interface Sim { mean: Grid; modules: Record<string, Grid & { energyKept: number }> }
  const complements = records.filter((r) => r.method.id === 'lora-complement' && r.status === 'ok' && r.analysis?.subspaceSimilarity);
  const complementTasks = tasks.filter((t) => complements.some((r) => r.task.id === t));
  const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
  const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  /** Cell-wise mean of the runs' grids (the fixtures' runs of a task share their widths). */
  const meanGrid = (grids: Grid[]): Grid => {
    for (const g of grids) expect([g.is, g.js]).toEqual([grids[0].is, grids[0].js]);
    return { is: grids[0].is, js: grids[0].js, phi: grids[0].phi.map((row, i) => row.map((_, j) => round4(avg(grids.map((g) => g.phi[i][j]))))) };
  };
  const label = (r: FixtureRecord) => `${r.method.id}${r.method.rank !== null ? ` r=${r.method.rank}` : ''}`;
  const modulesOf = (r: FixtureRecord) => r.analysis!.modules as Record<string, { shape: [number, number]; overlapWithW: { left: Record<string, number>; right: Record<string, number> } }>;

  test('r=8 vs r=64: per task one seed-averaged mean grid, small multiples of the module grids, and a reading of the data', async ({ page }) => {
    await page.goto('analysis.html');
    await chartsDrawn(page);
    await expect(page.locator('h2#subspace')).toHaveText('r=8 vs r=64 subspace similarity');
    await expect(page.locator('section.subspace')).toHaveCount(complementTasks.length);
    // no per-run flood: one mean chart and one small-multiples chart per task, nothing else between updates
    await expect(page.locator('[data-chart="subspace-mean"]')).toHaveCount(complementTasks.length);
    await expect(page.locator('[data-chart="subspace-modules"]')).toHaveCount(complementTasks.length);
    await expect(page.locator('[data-chart="heatmap"]')).toHaveCount(0);
    for (const task of complementTasks) {
      const runs = complements.filter((r) => r.task.id === task);
      const sims = runs.map((r) => r.analysis!.subspaceSimilarity as Sim);
      const mean = meanGrid(sims.map((x) => x.mean));
      const section = page.locator(`section.subspace[data-task="${task}"]`);
      await expect(section.locator('h3')).toHaveText(`${task}: r=8 vs r=64`);
      await expect(section.locator('[data-chart="subspace-mean"] svg .mark-rect.role-mark path')).toHaveCount(mean.is.length * mean.js.length);
      // the cell labels are the seed-averaged values, row by row
      const labels = await section.locator('[data-chart="subspace-mean"] svg .mark-text.role-mark text').allTextContents();
      expect(labels).toEqual(mean.phi.flat().map((v) => v.toFixed(2)));
      const moduleNames = Object.keys(sims[0].modules);
      const cells = moduleNames.reduce((n, m) => n + sims[0].modules[m].is.length * sims[0].modules[m].js.length, 0);
      await expect(section.locator('[data-chart="subspace-modules"] svg .mark-rect.role-mark path')).toHaveCount(cells);
      await expect(section.locator('[data-chart="subspace-mean"] .caption')).toContainText(`mean over ${runs.length} seeds`);

      const i = mean.is.at(-1)!;
      const j = mean.js.at(-1)!;
      const phi = mean.phi.at(-1)!.at(-1)!;
      const outDim = modulesOf(runs[0])[moduleNames[0]].shape[0];
      const chance = Math.max(i, j) / outDim;
      const gap = phi - chance;
      const word = gap > 0.1 ? 'well above' : gap > 0.03 ? 'above' : gap >= -0.03 ? 'about' : 'below';
      const reading = section.getByTestId('subspace-reading');
      await expect(reading).toContainText(`φ(${i}, ${j}) = ${phi.toFixed(2)}: ${Math.round(phi * 100)}% of the r=8 update's output subspace lies inside the r=64 update's top ${j} directions`);
      await expect(reading).toContainText(`, ${word} the ${chance.toFixed(2)} two random subspaces of these sizes share in ${outDim} dimensions.`);
    }
    // the fixtures span the range: one task well above chance, one at about chance
    await expect(page.locator('section.subspace[data-task="sql"] [data-testid="subspace-reading"]')).toContainText('well above');
    await expect(page.locator('section.subspace[data-task="math"] [data-testid="subspace-reading"]')).toContainText('about the 0.50');
  });

  test('the complement findings table: one row per task, means over seeds beside the lora r=8 and r=64 scores', async ({ page }) => {
    await page.goto('analysis.html');
    const table = page.locator('#complement-findings table');
    await expect(table.locator('thead th')).toHaveText(['task', 'side', 'energy kept', 'φ(1, 1)', 'φ(8, 8)', 'φ(8, 64)', 'lora r=8', 'lora r=64', 'lora-complement']);
    await expect(table.locator('tbody tr')).toHaveCount(complementTasks.length);
    const best = expectedBest(records, Infinity, { derived: true });
    const bestAtRank = (task: string, rank: number) => expectedBest(records.filter((r) => r.method.id === 'lora' && r.method.rank === rank)).get(`lora/${task}`)!;
    for (const task of complementTasks) {
      const row = table.locator('tbody tr', { has: page.locator('td:first-child', { hasText: new RegExp(`^${task}$`) }) });
      const findings = complements.filter((r) => r.task.id === task).map((r) => r.analysis!.complement as Record<string, number>);
      const cell = (key: string) => {
        const xs = findings.map((f) => f[key]);
        const m = avg(xs);
        const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
        return `${m.toFixed(3)} ± ${sd.toFixed(3)}`;
      };
      const score = (e: { mean: number; std: number; n: number }) => `${e.mean.toFixed(3)} ± ${e.std.toFixed(3)} (n=${e.n})`;
      await expect(row.locator('td')).toHaveText([task, 'both', cell('energyKept'), cell('phiTop1'), cell('phiSmallRank'), cell('phiFull'),
        score(bestAtRank(task, 8)), score(bestAtRank(task, 64)), score(best.get(`lora-complement/${task}`)!)]);
    }
  });

  test('overlap with W: one chart per task, the mean over runs of the chosen method and rank', async ({ page }) => {
    await page.goto('analysis.html');
    await chartsDrawn(page);
    const withOverlap = records.filter((r) => r.status === 'ok' && r.analysis?.modules && Object.values(modulesOf(r)).some((m) => m.overlapWithW));
    const overlapTasks = tasks.filter((t) => withOverlap.some((r) => r.task.id === t));
    await expect(page.locator('[data-chart^="overlap-w-"]')).toHaveCount(overlapTasks.length);
    for (const task of overlapTasks) {
      const chart = page.locator(`[data-chart="overlap-w-${task}"]`);
      const labels = [...new Set(withOverlap.filter((r) => r.task.id === task).map(label))];
      await expect(chart.locator('select option')).toHaveCount(labels.length);
      for (const choice of ['lora r=8', 'lora r=64']) {
        const runs = withOverlap.filter((r) => r.task.id === task && label(r) === choice);
        const modules = Object.keys(modulesOf(runs[0]));
        const cols = Object.keys(modulesOf(runs[0])[modules[0]].overlapWithW.left).length + Object.keys(modulesOf(runs[0])[modules[0]].overlapWithW.right).length;
        await chart.locator('select').selectOption(choice);
        await expect(chart.locator('svg .mark-rect.role-mark path')).toHaveCount(modules.length * cols);
        // the data table holds every choice; its first cell for this one is the mean over runs of left top1
        const first = avg(runs.map((r) => modulesOf(r)[modules[0]].overlapWithW.left.top1));
        // large data tables load when their <details> opens
        if (!(await chart.locator('details.fallback').getAttribute('open'))) await chart.locator('details.fallback summary').click();
        const table = chart.locator(`details [data-choice="${choice}"] table`);
        await expect(table.locator('tbody tr').first().locator('td').nth(1)).toHaveText(round4(first).toFixed(2));
        await expect(chart.locator('.caption')).toContainText(`${choice}: ${runs.length} runs`);
      }
    }
    await expect(page.locator('[data-chart="histogram"]').first().locator('svg .mark-rect.role-mark path')).toHaveCount(12);
    await expect(page.locator('[data-chart="ln-nli"] svg .mark-symbol.role-mark path')).toHaveCount(8);
    // amplification: per task, one bar per module and method/rank (seeds averaged, not stacked)
    const amp = withOverlap.filter((r) => r.task.id === 'nli');
    const bars = new Set(amp.flatMap((r) => Object.keys(modulesOf(r)).map((m) => `${label(r)}/${m}`)));
    await expect(page.locator('[data-chart="amplification-nli"] svg .mark-rect.role-mark path')).toHaveCount(bars.size);
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
    // Every run of every scope has its page, reached by links.
    expect(runPages).toHaveLength(allFixtureRecords().length);
  });

  test('downloads and the list of skipped files', async ({ page, request }) => {
    await page.goto('data.html');
    await expect(page.locator('#problems')).toContainText('corrupt-half-written.json');
    await expect(page.locator('#problems')).toContainText('not valid JSON');
    await expect(page.locator('#problems')).toContainText('foreign-package.json');
    const csv = await (await request.get('data/leaderboard.csv')).text();
    expect(csv.split('\n')[0]).toBe('method,family,task,task_family,metric,mean,std,n,ci95_lo,ci95_hi,interval,valid_mean,selected_on,n_configs,best_config,best_lr,trainable,is_best,tied_with_best');
    const json = await (await request.get('data/aggregated.json')).json();
    expect(json.recordCount).toBe(records.length);
    expect(json.analysis).toBeUndefined();
    expect(json.subspace.length).toBeGreaterThan(0);
    expect(json.problems.map((p: { path: string }) => p.path).sort()).toEqual(['corrupt-half-written.json', 'foreign-package.json']);
  });

  test('an empty results directory builds a site that says so on every page', async ({ page }) => {
    const errors = watchErrors(page);
    for (const name of ['index', 'questions', 'stability', 'cost', 'rank', 'analysis', 'methods', 'runs', 'data', 'submit']) {
      await page.goto(`${emptyBase()}${name}.html`);
      await expect(page.getByRole('heading', { name: 'No results yet' })).toBeVisible();
      if (name === 'index') await page.screenshot({ path: 'screenshots/empty-index.png', fullPage: true });
    }
    expect(errors).toEqual([]);
  });
});

test('the built site also works opened from disk (file://): inline charts draw, large ones say why not, links are relative', async ({ page }) => {
  const errors = watchErrors(page);
  const { pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  await page.goto(pathToFileURL(resolve('dist-test/cost.html')).href);
  const inline = page.locator('.vega[data-spec]');
  const external = page.locator('.vega[data-spec-src]');
  expect(await inline.count()).toBeGreaterThan(0);
  expect(await external.count()).toBeGreaterThan(0);
  for (const chart of await page.locator('.vega').all()) await chart.scrollIntoViewIfNeeded();
  await expect(page.locator('.vega[data-spec][data-rendered="true"]')).toHaveCount(await inline.count(), { timeout: 20_000 });
  await expect(external.first()).toContainText('pnpm site:preview');
  await page.locator('a', { hasText: 'Leaderboard' }).first().click();
  await expect(page.locator('#leaderboard')).toBeVisible();
  expect(page.url()).toMatch(/^file:.*\/dist-test\/index\.html$/);
  expect(errors).toEqual([]);
});
