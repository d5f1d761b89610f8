// Question 1: does a low rank suffice? Every method across ranks, per task, simple tasks beside reasoning.
import { defineStudy, DIVERGED_NOTE, groupCell } from '../define.ts';

export default defineStudy({
  id: 'rank',
  order: 1,
  title: '1. Does a low rank suffice?',
  intro: 'Each method follows its default configuration across ranks; another configuration swept over ranks is a row of its own, named by what it changes (e.g. lora (use_rslora=true)). Simple tasks first, then reasoning.',
  empty: 'No method with a rank has finished yet.',
  chart: { page: 'rank', anchor: '', label: 'Rank: score against rank, charted' },
  tables({ agg, tasks, ownMethods, rankGroup, ref }) {
    const curves = agg.rankCurves.filter((r) => !ownMethods.has(r.method));
    const ranks = [...new Set(curves.map((r) => r.rank))].sort((a, b) => a - b);
    const rankSeries = [...new Map(curves.map((r) => [r.series, r.method])).entries()];
    const unranked = agg.methods.filter((m) => !m.isBaseline && !ownMethods.has(m.id) && agg.groups.some((g) => g.method === m.id && g.rank === null))
      .map((m) => m.id);
    return tasks.flatMap((t) => {
      const rows = rankSeries.filter(([series]) => curves.some((r) => r.series === series && r.task === t.id))
        .map(([series, m]) => [series, ...ranks.map((r) => groupCell(rankGroup(m, t.id, r, series)))]);
      if (rows.length === 0) return [];
      const diverged = curves.some((p) => p.task === t.id && p.diverged > 0);
      const others = unranked.map((m) => [m, ref(m, t.id)]).filter(([, v]) => v !== '—').map(([m, v]) => `${m} ${v}`);
      return [{
        title: `${t.id} (${t.primaryMetric}), ${t.family}`,
        headers: ['method', ...ranks.map((r) => `r=${r}`)],
        rows,
        note: `Frozen base ${ref('none', t.id)}; full fine-tuning ${ref('full', t.id)}.${others.length ? ` Without a rank: ${others.join(', ')}.` : ''}`
          + (diverged ? ` ${DIVERGED_NOTE}` : ''),
      }];
    });
  },
});
