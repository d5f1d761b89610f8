// Question 5: which methods are stable? Spread across seeds, run outcomes, and scores across a
// learning-rate grid.
import { mean } from '../../src/aggregate/stats.ts';
import { defaultLr } from '../../src/methods.ts';
import { LEGACY_PROTOCOL } from '../../src/record/schema.ts';
import { defineStudy, num, type FindingsTable } from '../define.ts';

export default defineStudy({
  id: 'stability',
  order: 5,
  title: '5. Which methods are stable?',
  empty: 'No runs yet.',
  chart: { page: 'stability', anchor: '', label: 'Stability: learning-rate curves and divergence' },
  tables({ agg, tasks, groupsOf }) {
    const methods = agg.methods.map((m) => m.id).filter((m) => m !== 'none' && agg.methodTask.some((x) => x.method === m));
    const pooledStd = (method: string, task: string) => {
      const v = mean(groupsOf(method, task).filter((g) => g.stats.n > 1 && g.stats.std !== null).map((g) => (g.stats.std as number) ** 2));
      return v === null ? '—' : num(Math.sqrt(v));
    };
    const spreadRows = methods.map((m) => {
      const mts = agg.methodTask.filter((x) => x.method === m);
      const sum = (pick: (x: (typeof mts)[number]) => number) => String(mts.reduce((s, x) => s + pick(x), 0));
      return [m, ...tasks.map((t) => pooledStd(m, t.id)), sum((x) => x.runs), sum((x) => x.diverged), sum((x) => x.failed)];
    });
    const lrRows = methods.flatMap((m) => {
      const mts = tasks.map((t) => agg.methodTask.find((x) => x.method === m && x.task === t.id));
      if (!mts.some((x) => x && x.lrGrid.length >= 2)) return [];
      return [[m, ...mts.map((x) => {
        if (!x || x.lrGrid.length < 2) return '—';
        return `${x.lrGrid.map((q) => num(q.score)).join(' / ')} (${Math.round((x.lrNearBestShare ?? 0) * 100)}%)`;
      })]];
    });
    // The grid's learning rates as multiples of the method's default, from the largest grid.
    const widest = agg.methodTask.reduce<(typeof agg.methodTask)[number] | null>((b, m) => (m.lrGrid.length > (b?.lrGrid.length ?? 1) ? m : b), null);
    let lrFactors = '';
    if (widest) {
      const model = String(agg.groups.find((g) => g.method === widest.method)?.config.model ?? 'naive').split('@')[0]!;
      const base = defaultLr(model, widest.method, agg.scope?.protocol ?? LEGACY_PROTOCOL);
      lrFactors = ` (for example ${widest.method} on ${widest.task}: lr ${widest.lrGrid.map((q) => `${Number((q.lr / base).toPrecision(3))}x`).join(', ')} of its default ${base})`;
    }
    const tables: FindingsTable[] = [];
    if (spreadRows.length) {
      tables.push({
        title: 'Spread across seeds and run outcomes',
        headers: ['method', ...tasks.map((t) => `${t.id} seed std`), 'runs', 'diverged', 'failed'],
        rows: spreadRows,
        note: 'Seed std: the pooled standard deviation over seeds (root of the mean variance) of every configuration with two or more seeds.',
      });
    }
    if (lrRows.length) {
      tables.push({
        title: 'Learning-rate sensitivity',
        headers: ['method', ...tasks.map((t) => `${t.id}: score by lr`)],
        rows: lrRows,
        note: `Scores at each learning rate of the grid, lowest first${lrFactors}, for one configuration (rank 8 where the method has a rank); in brackets, the share of the grid within 95% of its best.`,
      });
    }
    return tables;
  },
});
