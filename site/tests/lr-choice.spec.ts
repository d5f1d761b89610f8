// A method page's "Learning rate, chosen on valid" block: the learning-rate search (x0.25, x1 and x4 of the
// declared rate, seed 0, grids/leaderboard-lr.yaml) read from the fixture records. BitFit's search is complete
// (x4 diverges on nli), IA3's is not.
import { test, expect, type Locator } from '@playwright/test';
import { createRequire } from 'node:module';
import { declaredLr, defaultLr } from '@peft-bench/results/methods';
import { lr } from '../src/lib/format.ts';
import { fixtureRecords } from './helpers.ts';

const records = fixtureRecords();
const FACTORS = [0.25, 1, 4];
const TASKS = ['math', 'nli', 'sql', 'summarize'];

/** The search runs of a method, by task and factor, as the fixtures state them: the valid score, 'diverged' or '—'. */
function expectedCells(method: string): Map<string, string[]> {
  const runs = records.filter((r) => r.method.id === method && r.seed === 0);
  const declared = declaredLr('base', method, 'converge');
  return new Map(TASKS.map((task) => [task, FACTORS.map((f) => {
    const r = runs.find((x) => x.task.id === task && Math.abs(x.training.lr - declared * f) < 1e-12);
    if (!r) return '—';
    return r.status === 'diverged' ? 'diverged' : r.metrics.valid[r.task.primary_metric]!.toFixed(3);
  })]));
}

const cellsOf = async (table: Locator, task: string) => table.locator(`tbody tr[data-task="${task}"] td[data-factor]`).allInnerTexts();

test.describe('learning rate chosen on valid, on a method page', () => {
  test('a complete search: every cell, the mean ranks and the chosen factor', async ({ page }) => {
    await page.goto('methods/bitfit.html');
    const block = page.locator('#scope-converge-base').getByTestId('lr-choice');
    await expect(block.locator('h3')).toHaveText('Learning rate, chosen on valid');
    const table = block.getByTestId('lr-choice-table');
    await expect(table.locator('thead th[data-factor]')).toHaveText(['x0.25 lr 2.5e-3', 'x1 lr 1e-2', 'x4 lr 4e-2'].map((t) => new RegExp(t.replace(/ /g, '\\s*').replace('.', '\\.'))));
    const expected = expectedCells('bitfit');
    expect([...expected.values()].flat()).not.toContain('—');
    expect(expected.get('nli')![2]).toBe('diverged');
    for (const task of TASKS) {
      expect(await cellsOf(table, task), task).toEqual(expected.get(task));
      await expect(table.locator(`tbody tr[data-task="${task}"] td`).first()).toContainText(records.find((r) => r.task.id === task)!.task.primary_metric);
    }
    // Per task, ranks on valid (diverged last): math 1,3,2; nli 1,2,3; sql 2,1,3; summarize 1,2,3.
    await expect(table.locator('tr.mean-rank td')).toHaveText(['1.25', '2.00', '2.75']);
    await expect(table.locator('td.chosen')).toHaveCount(TASKS.length + 1);
    await expect(table.locator('td.chosen').first()).toHaveAttribute('data-factor', '0.25');
    await expect(block.getByTestId('lr-chosen')).toHaveText(/^Chosen: x0\.25 = lr 2\.5e-3/);
    await expect(block).toContainText('Test scores are not read.');
    await block.screenshot({ path: 'screenshots/lr-choice-1366.png' });
  });

  test('an incomplete search: its finished runs, dashes for the rest, and no choice yet', async ({ page }) => {
    await page.goto('methods/ia3.html');
    const block = page.getByTestId('lr-choice');
    const table = block.getByTestId('lr-choice-table');
    const expected = expectedCells('ia3');
    for (const task of TASKS) expect(await cellsOf(table, task), task).toEqual(expected.get(task));
    expect(await cellsOf(table, 'math')).toEqual(['—', '—', '—']);
    await expect(table.locator('tr.mean-rank')).toHaveCount(0);
    await expect(table.locator('.chosen')).toHaveCount(0);
    const finished = records.filter((r) => r.method.id === 'ia3' && r.seed === 0).length;
    // The rate runs use is the project's (methods.json): the declared one until the real search chose one.
    const inUse = defaultLr('base', 'ia3', 'converge');
    const declared = declaredLr('base', 'ia3', 'converge');
    await expect(block.getByTestId('lr-chosen')).toHaveText(
      `Not chosen yet: ${finished} of 12 search runs finished; runs use ${inUse === declared ? 'the declared rate, ' : ''}lr ${lr(inUse)}.`,
    );
  });

  test('only where the search runs: not for a method it leaves out, nor in another scope', async ({ page }) => {
    await page.goto('methods/ln-outlier.html');
    await expect(page.getByTestId('lr-choice')).toHaveCount(0);
    await page.goto('methods/lora.html');
    // LoRA is searched at r=16, which the fixtures do not hold: none of its 12 runs finished.
    await expect(page.locator('#scope-converge-base').getByTestId('lr-chosen')).toHaveText(/^Not chosen yet: 0 of 12 search runs finished/);
    await expect(page.getByTestId('lr-choice')).toHaveCount(1);
  });

  test('the Stability page lists each searched method\'s choice, linked to its table', async ({ page }) => {
    await page.goto('stability.html');
    const note = page.getByTestId('lr-choices');
    await expect(note).toContainText('bitfit x0.25');
    await expect(note).toContainText('ia3 4 of 12 runs');
    await expect(note.locator('a')).toHaveText(['bitfit', 'ia3']);
    await note.getByRole('link', { name: 'bitfit' }).click();
    await expect(page).toHaveURL(/\/methods\/bitfit\.html#lr-choice$/);
    await expect(page.locator('#lr-choice')).toHaveText('Learning rate, chosen on valid');
  });

  test.describe('at 390 px', () => {
    test.use({ viewport: { width: 390, height: 844 } });
    test('the table scrolls inside its wrapper, never the page, and the block has no axe violations', async ({ page }) => {
      await page.goto('methods/bitfit.html');
      const block = page.getByTestId('lr-choice');
      await block.scrollIntoViewIfNeeded();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      const wrap = block.locator('.table-wrap');
      expect((await wrap.boundingBox())!.width).toBeLessThanOrEqual(390);
      await block.screenshot({ path: 'screenshots/lr-choice-390.png' });
      await page.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
        const result = await axe.run('[data-testid="lr-choice"]', {});
        return result.violations.map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
      });
      expect(violations).toEqual([]);
    });
  });
});
