// `pnpm bench report`: the aggregated records as Markdown tables, one section per question the benchmark
// exists to answer (DESIGN.md). Numbers only; what they mean is for the reader.
import type { Aggregated, ConfigGroup, SeedStats, TaskInfo } from './aggregate.ts';
import { isBetter } from './metrics.ts';
import { mean } from './stats.ts';
import { defaultLr } from '../run/defaults.ts';

/**
 * Methods left out of the rank section: ln-outlier and ln-random (their rank is a number of tuned weights)
 * and the seed-idea methods, which have sections of their own.
 */
const OWN_SECTION = new Set(['ln-outlier', 'ln-random', 'lora-complement', 'lora-grow', 'svd-slice']);

const num = (v: number | null, digits = 3) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const int = (v: number) => v.toLocaleString('en-US');

/** "0.095 ± 0.012 (3)": mean ± sample std over seeds (seeds). */
export function cell(stats: SeedStats | null | undefined): string {
  if (!stats || stats.mean === null) return '—';
  return stats.n > 1 ? `${num(stats.mean)} ± ${num(stats.std)} (${stats.n})` : `${num(stats.mean)} (1)`;
}

function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export function findingsReport(agg: Aggregated): string {
  const tasks = agg.tasks;
  const groupsOf = (method: string, task: string) => agg.groups.filter((g) => g.method === method && g.task === task);
  const rankPoint = (method: string, task: string, rank: number) =>
    agg.rankCurves.find((p) => p.method === method && p.task === task && p.rank === rank);
  const rankGroup = (method: string, task: string, rank: number): ConfigGroup | undefined => {
    const p = rankPoint(method, task, rank);
    return p && agg.groups.find((g) => g.method === method && g.task === task && g.configKey === p.configKey);
  };
  /** A method without a rank: its configuration at its default learning rate (most seeds first). */
  const defaultGroup = (method: string, task: string): ConfigGroup | undefined => {
    const atDefault = groupsOf(method, task).filter((g) => {
      const lr = defaultLr(String(g.config.model ?? 'default').split('@')[0], method);
      return Math.abs(g.lr - lr) <= 1e-6 * lr;
    });
    return atDefault.sort((a, b) => b.stats.n - a.stats.n)[0];
  };
  const ref = (method: string, task: string) => cell(defaultGroup(method, task)?.stats);
  const taskHead = (t: TaskInfo) => `${t.id} (${t.primaryMetric})`;
  const out: string[] = [];

  // Provenance.
  const p = agg.provenance;
  const counts = { ok: 0, diverged: 0, failed: 0 };
  for (const r of agg.runs) counts[r.status] += 1;
  const seeds = [...new Set(agg.runs.map((r) => r.seed))].sort((a, b) => a - b);
  out.push('# What the results say', '');
  out.push(`${int(agg.recordCount)} run records (${counts.ok} ok, ${counts.diverged} diverged, ${counts.failed} failed), seeds ${seeds.join(', ') || '—'}; `
    + `backend ${p.backends.map((b) => `${b.name} (${b.runs} runs)`).join(', ') || '—'}; ${p.cpus.join(', ') || '—'}${p.gpus.length ? `, ${p.gpus.join(', ')}` : ''}; `
    + `base model ${p.models.map((m) => `${m.id} (${int(m.params)} parameters)`).join(', ') || '—'}; `
    + `${(p.totalTrainSeconds / 3600).toFixed(1)} h of training and ${(p.totalEvalSeconds / 3600).toFixed(1)} h of evaluation.`);
  out.push('', 'Cells: mean ± sample standard deviation over seeds (number of seeds) of the primary metric on the test split.', '');

  // 1. Rank.
  out.push('## 1. Does a low rank suffice?', '');
  const curves = agg.rankCurves.filter((r) => !OWN_SECTION.has(r.method));
  const ranks = [...new Set(curves.map((r) => r.rank))].sort((a, b) => a - b);
  const rankMethods = [...new Set(curves.map((r) => r.method))];
  const unranked = agg.methods.filter((m) => !m.isBaseline && !OWN_SECTION.has(m.id) && agg.groups.some((g) => g.method === m.id && g.rank === null))
    .map((m) => m.id);
  for (const t of tasks) {
    const rows = rankMethods.filter((m) => agg.rankCurves.some((r) => r.method === m && r.task === t.id))
      .map((m) => [m, ...ranks.map((r) => cell(rankGroup(m, t.id, r)?.stats))]);
    if (rows.length === 0) continue;
    out.push(`### ${taskHead(t)}, ${t.family}`, '');
    out.push(table(['method', ...ranks.map((r) => `r=${r}`)], rows), '');
    const others = unranked.map((m) => `${m} ${ref(m, t.id)}`).filter((x) => !x.endsWith(' —'));
    out.push(`Frozen base ${ref('none', t.id)}; full fine-tuning ${ref('full', t.id)}.${others.length ? ` Without a rank: ${others.join(', ')}.` : ''}`, '');
  }

  // 2. Complement.
  out.push('## 2. What lives outside the top directions?', '');
  const sliceCell = (task: string, from: number, to: number) =>
    cell(groupsOf('svd-slice', task).find((g) => g.config.from === from && g.config.to === to)?.stats);
  const complementCell = (task: string, mode: string) => cell(groupsOf('lora-complement', task).find((g) => g.config.mode === mode)?.stats);
  const q2 = tasks.filter((t) => groupsOf('svd-slice', t.id).length + groupsOf('lora-complement', t.id).length > 0).map((t) => [
    t.id, cell(rankGroup('lora', t.id, 8)?.stats), cell(rankGroup('lora', t.id, 64)?.stats), sliceCell(t.id, 1, 8), sliceCell(t.id, 9, 64),
    complementCell(t.id, 'posthoc'), complementCell(t.id, 'train'), ref('none', t.id),
  ]);
  out.push(q2.length === 0 ? 'No svd-slice or lora-complement runs yet.' : table(
    ['task', 'lora r=8', 'lora r=64', 'r=64 components 1..8', 'r=64 components 9..64', 'r=64 minus r=8 subspaces (post hoc)', 'r=64 trained in the complement', 'frozen'], q2), '');

  // 3. Growing and initialising from W.
  out.push('## 3. Can a small update be grown into a large one?', '');
  const growRanks = [...new Set(agg.rankCurves.filter((r) => r.method === 'lora-grow').map((r) => r.rank))].sort((a, b) => a - b);
  const inits = [...new Set(agg.groups.filter((g) => g.method === 'lora').map((g) => g.config.init_lora_weights))]
    .filter((v): v is string => typeof v === 'string' && v !== 'default').sort();
  const q3: string[][] = [];
  for (const r of [...new Set([...growRanks, ...agg.groups.filter((g) => g.method === 'lora' && inits.includes(g.config.init_lora_weights as string)).map((g) => g.rank as number)])].sort((a, b) => a - b)) {
    q3.push([`lora r=${r} (default init)`, ...tasks.map((t) => cell(rankGroup('lora', t.id, r)?.stats))]);
    if (growRanks.includes(r)) q3.push([`lora-grow to r=${r}`, ...tasks.map((t) => cell(rankGroup('lora-grow', t.id, r)?.stats))]);
    for (const init of inits) {
      // The init variant at the sweep's other settings (same learning rate as the default-init point).
      const variant = (task: string) => {
        const base = rankGroup('lora', task, r);
        return groupsOf('lora', task).find((g) => g.rank === r && g.config.init_lora_weights === init && (!base || g.lr === base.lr));
      };
      if (tasks.some((t) => variant(t.id))) q3.push([`lora r=${r}, ${init} init`, ...tasks.map((t) => cell(variant(t.id)?.stats))]);
    }
  }
  out.push(q3.length === 0 ? 'No lora-grow or initialisation runs yet.' : table(['configuration', ...tasks.map(taskHead)], q3), '');

  // 4. LayerNorm.
  out.push('## 4. How much do LayerNorm weights carry?', '');
  const ns = [...new Set(agg.lnCurve.map((x) => x.n))].sort((a, b) => a - b);
  const lnCell = (task: string, method: string, n: number) => {
    const x = agg.lnCurve.find((c) => c.task === task && c.method === method && c.n === n);
    return x ? cell({ n: x.runs, mean: x.mean, std: x.std } as SeedStats) : '—';
  };
  const trainable = (method: string, pick: (g: ConfigGroup) => boolean = () => true) => {
    const g = agg.groups.find((x) => x.method === method && pick(x));
    return g ? int(g.params.trainable) : '—';
  };
  const q4: string[][] = [];
  for (const n of ns) {
    for (const method of ['ln-outlier', 'ln-random']) {
      q4.push([`${method} n=${n}`, trainable(method, (g) => g.rank === n), ...tasks.map((t) => lnCell(t.id, method, n))]);
    }
  }
  if (agg.groups.some((g) => g.method === 'ln')) q4.push(['ln (every LayerNorm weight)', trainable('ln'), ...tasks.map((t) => ref('ln', t.id))]);
  if (agg.rankCurves.some((r) => r.method === 'lora' && r.rank === 8)) q4.push(['lora r=8', trainable('lora', (g) => g.rank === 8), ...tasks.map((t) => cell(rankGroup('lora', t.id, 8)?.stats))]);
  q4.push(['frozen', '0', ...tasks.map((t) => ref('none', t.id))]);
  out.push(q4.length <= 1 ? 'No LayerNorm runs yet.' : table(['configuration', 'trainable', ...tasks.map(taskHead)], q4), '');

  // 5. Stability.
  out.push('## 5. Which methods are stable?', '');
  out.push('Seed spread: the pooled standard deviation over seeds (root of the mean variance) of every configuration with two or more seeds.'
    + ' Learning rates: the score at each learning rate of the grid, lowest first, and the share of the grid within 95% of its best.', '');
  const methods = agg.methods.map((m) => m.id).filter((m) => m !== 'none');
  const pooledStd = (method: string, task: string) => {
    const variances = groupsOf(method, task).filter((g) => g.stats.n > 1 && g.stats.std !== null).map((g) => (g.stats.std as number) ** 2);
    const v = mean(variances);
    return v === null ? '—' : num(Math.sqrt(v));
  };
  const q5 = methods.filter((m) => agg.methodTask.some((x) => x.method === m)).map((m) => {
    const mts = agg.methodTask.filter((x) => x.method === m);
    const runs = mts.reduce((s, x) => s + x.runs, 0);
    const diverged = mts.reduce((s, x) => s + x.diverged, 0);
    const failed = mts.reduce((s, x) => s + x.failed, 0);
    return [m, ...tasks.map((t) => pooledStd(m, t.id)), String(runs), String(diverged), String(failed)];
  });
  out.push(table(['method', ...tasks.map((t) => `${t.id} seed std`), 'runs', 'diverged', 'failed'], q5), '');
  const lrRows = methods.flatMap((m) => {
    const mts = tasks.map((t) => agg.methodTask.find((x) => x.method === m && x.task === t.id));
    if (!mts.some((x) => x && x.lrGrid.length >= 2)) return [];
    const best = (task: TaskInfo, scores: (number | null)[]) => {
      const valid = scores.filter((v): v is number => v !== null);
      return valid.length ? valid.reduce((b, v) => (isBetter(task.direction, v, b) ? v : b)) : null;
    };
    return [[m, ...mts.map((x, i) => {
      if (!x || x.lrGrid.length < 2) return '—';
      const scores = x.lrGrid.map((q) => q.score);
      const top = best(tasks[i], scores);
      const list = scores.map((v) => (v !== null && v === top ? `**${num(v)}**` : num(v))).join(' / ');
      return `${list} (${Math.round((x.lrNearBestShare ?? 0) * 100)}%)`;
    })]];
  });
  const lrs = agg.methodTask.find((x) => x.lrGrid.length >= 2);
  out.push(lrRows.length === 0 ? 'No learning-rate grid yet.' : table(['method', ...tasks.map((t) => `${t.id}: score by lr`)], lrRows), '');
  if (lrs) out.push(`For example ${lrs.method} on ${lrs.task} ran at lr ${lrs.lrGrid.map((q) => q.lr).join(', ')}.`, '');
  return `${out.join('\n').trimEnd()}\n`;
}
