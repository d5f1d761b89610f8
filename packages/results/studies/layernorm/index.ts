// Question 4: how much do LayerNorm weights carry? The n largest-magnitude LayerNorm weights per layer
// against n random ones, all of LayerNorm, LoRA r=8 and the frozen base.
import { cell, defineStudy, groupCell } from '../define.ts';

export default defineStudy({
  id: 'layernorm',
  order: 4,
  title: '4. How much do LayerNorm weights carry?',
  intro: 'The n largest-magnitude LayerNorm weights per layer (ln-outlier) against n random ones (ln-random), all LayerNorm weights (ln), LoRA r=8 and the frozen base.',
  empty: 'No LayerNorm runs yet.',
  methods: { outlier: 'ln-outlier', random: 'ln-random' },
  chart: {
    page: 'analysis', anchor: 'ln-outlier', label: 'Analysis: outlier vs random LayerNorm weights, charted',
    caption: 'Tuning only the n LayerNorm weights per layer farthest from the layer mean (ln-outlier) against n random ones (ln-random, the control).',
  },
  tables({ agg, tasks, rankGroup, ref, trainable, taskHead }) {
    const ns = [...new Set(agg.lnCurve.map((x) => x.n))].sort((a, b) => a - b);
    const lnCell = (task: string, method: string, n: number) => {
      const x = agg.lnCurve.find((c) => c.task === task && c.method === method && c.n === n);
      return x ? cell({ n: x.runs, mean: x.mean, std: x.std }) : '—';
    };
    const rows: string[][] = ns.flatMap((n) => ['ln-outlier', 'ln-random'].map((method) =>
      [`${method} n=${n}`, trainable(method, (g) => g.rank === n), ...tasks.map((t) => lnCell(t.id, method, n))]));
    if (agg.groups.some((g) => g.method === 'ln')) rows.push(['ln (every LayerNorm weight)', trainable('ln'), ...tasks.map((t) => ref('ln', t.id))]);
    if (rows.length === 0) return [];
    const references = [
      ...(agg.rankCurves.some((r) => r.method === 'lora' && r.rank === 8) ? [['lora r=8', trainable('lora', (g) => g.rank === 8), ...tasks.map((t) => groupCell(rankGroup('lora', t.id, 8)))]] : []),
      ['frozen', '0', ...tasks.map((t) => ref('none', t.id))],
    ];
    return [{ headers: ['configuration', 'trainable', ...tasks.map(taskHead)], rows: [...rows, ...references] }];
  },
});
