// The five questions the benchmark exists to answer (DESIGN.md), as tables built from the aggregate:
// `findings` gives sections the site renders on its Questions page, `findingsMarkdown` the same for
// `pnpm bench report`. Numbers only; what they mean is for the reader.
import type { Aggregated, ConfigGroup, SeedStats, TaskInfo } from './aggregate.ts';
import { mean } from './stats.ts';
import { defaultLr, isProtocol, LEGACY_PROTOCOL } from '../run/defaults.ts';

export interface FindingsTable {
  title?: string;
  headers: string[];
  rows: string[][];
  note?: string;
}

export interface FindingsSection {
  /** Anchor and question number: rank, complement, grow, layernorm, stability. */
  id: string;
  title: string;
  intro?: string;
  tables: FindingsTable[];
  /** Said instead of tables when no run answers the question yet. */
  empty: string;
}

/**
 * Methods left out of the rank section: ln-outlier and ln-random (their rank is a number of tuned weights)
 * and the seed-idea methods, which have sections of their own.
 */
const OWN_SECTION = new Set(['ln-outlier', 'ln-random', 'lora-complement', 'lora-grow', 'svd-slice']);

const num = (v: number | null, digits = 3) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const int = (v: number) => v.toLocaleString('en-US');

/** "0.095 ± 0.012 (3)": mean ± sample std over seeds (seeds). */
export function cell(stats: Pick<SeedStats, 'n' | 'mean' | 'std'> | null | undefined): string {
  if (!stats || stats.mean === null) return '—';
  return stats.n > 1 ? `${num(stats.mean)} ± ${num(stats.std)} (${stats.n})` : `${num(stats.mean)} (1)`;
}

/** One line on where the numbers come from: records, seeds, backend, hardware, model, compute. */
export function findingsProvenance(agg: Aggregated): string {
  const p = agg.provenance;
  const counts = { ok: 0, diverged: 0, failed: 0 };
  for (const r of agg.runs) counts[r.status] += 1;
  const seeds = [...new Set(agg.runs.map((r) => r.seed))].sort((a, b) => a - b);
  return `${int(agg.recordCount)} run records (${counts.ok} ok, ${counts.diverged} diverged, ${counts.failed} failed), seeds ${seeds.join(', ') || '—'}; `
    + `backend ${p.backends.map((b) => `${b.name} (${b.runs} runs)`).join(', ') || '—'}; ${p.cpus.join(', ') || '—'}${p.gpus.length ? `, ${p.gpus.join(', ')}` : ''}; `
    + `base model ${p.models.map((m) => `${m.id} (${int(m.params)} parameters)`).join(', ') || '—'}; `
    + `${(p.totalTrainSeconds / 3600).toFixed(1)} h of training and ${(p.totalEvalSeconds / 3600).toFixed(1)} h of evaluation.`;
}

export const FINDINGS_CELLS = 'Cells: mean ± sample standard deviation over seeds (number of seeds) of the primary metric on the test split.';

export function findings(agg: Aggregated): FindingsSection[] {
  // Default learning rates depend on the protocol of the records (one scope per aggregation).
  const protocol = agg.scope && isProtocol(agg.scope.protocol) ? agg.scope.protocol : LEGACY_PROTOCOL;
  const defaultLrOf = (model: string, method: string) => defaultLr(model, method, protocol);
  const tasks = agg.tasks;
  const groupsOf = (method: string, task: string) => agg.groups.filter((g) => g.method === method && g.task === task);
  /** The group at a rank on a rank-curve series (the method's main configuration unless a series is named). */
  const rankGroup = (method: string, task: string, rank: number, series = method): ConfigGroup | undefined => {
    const p = agg.rankCurves.find((x) => x.series === series && x.task === task && x.rank === rank);
    return p && agg.groups.find((g) => g.method === method && g.task === task && g.configKey === p.configKey);
  };
  /**
   * A method without a rank: its configuration at its default learning rate, else (records made with other
   * defaults) the one with the most seeds.
   */
  const defaultGroup = (method: string, task: string): ConfigGroup | undefined => {
    const bySeeds = [...groupsOf(method, task)].sort((a, b) => b.stats.n - a.stats.n);
    const atDefault = bySeeds.find((g) => {
      const lr = defaultLrOf(String(g.config.model ?? 'naive').split('@')[0]!, method);
      return Math.abs(g.lr - lr) <= 1e-6 * lr;
    });
    return atDefault ?? bySeeds[0];
  };
  const ref = (method: string, task: string) => cell(defaultGroup(method, task)?.stats);
  const taskHead = (t: TaskInfo) => `${t.id} (${t.primaryMetric})`;
  const trainable = (method: string, pick: (g: ConfigGroup) => boolean = () => true) => {
    const g = agg.groups.find((x) => x.method === method && pick(x));
    return g ? int(g.params.trainable) : '—';
  };

  // 1. Rank: one table per task, methods x ranks, with the references under it.
  const curves = agg.rankCurves.filter((r) => !OWN_SECTION.has(r.method));
  const ranks = [...new Set(curves.map((r) => r.rank))].sort((a, b) => a - b);
  const rankSeries = [...new Map(curves.map((r) => [r.series, r.method])).entries()];
  const unranked = agg.methods.filter((m) => !m.isBaseline && !OWN_SECTION.has(m.id) && agg.groups.some((g) => g.method === m.id && g.rank === null))
    .map((m) => m.id);
  const rankTables = tasks.flatMap((t): FindingsTable[] => {
    const rows = rankSeries.filter(([series]) => curves.some((r) => r.series === series && r.task === t.id))
      .map(([series, m]) => [series, ...ranks.map((r) => cell(rankGroup(m, t.id, r, series)?.stats))]);
    if (rows.length === 0) return [];
    const others = unranked.map((m) => [m, ref(m, t.id)]).filter(([, v]) => v !== '—').map(([m, v]) => `${m} ${v}`);
    return [{
      title: `${taskHead(t)}, ${t.family}`,
      headers: ['method', ...ranks.map((r) => `r=${r}`)],
      rows,
      note: `Frozen base ${ref('none', t.id)}; full fine-tuning ${ref('full', t.id)}.${others.length ? ` Without a rank: ${others.join(', ')}.` : ''}`,
    }];
  });

  // 2. Complement and SVD slices of the r=64 update beside the updates they come from.
  const sliceCell = (task: string, from: number, to: number) =>
    cell(groupsOf('svd-slice', task).find((g) => g.config.from === from && g.config.to === to)?.stats);
  const complementCell = (task: string, mode: string) => cell(groupsOf('lora-complement', task).find((g) => g.config.mode === mode)?.stats);
  const complementRows = tasks.filter((t) => groupsOf('svd-slice', t.id).length + groupsOf('lora-complement', t.id).length > 0).map((t) => [
    t.id, cell(rankGroup('lora', t.id, 8)?.stats), cell(rankGroup('lora', t.id, 64)?.stats), sliceCell(t.id, 1, 8), sliceCell(t.id, 9, 64),
    complementCell(t.id, 'posthoc'), complementCell(t.id, 'train'), ref('none', t.id),
  ]);

  // 3. Growing (lora-grow) and initialising from W (PiSSA, MiLoRA, pooling) beside default LoRA at each rank.
  const growRanks = new Set(agg.rankCurves.filter((r) => r.method === 'lora-grow').map((r) => r.rank));
  const initGroups = agg.groups.filter((g) => g.method === 'lora' && typeof g.config.init_lora_weights === 'string' && g.config.init_lora_weights !== 'default');
  const inits = [...new Set(initGroups.map((g) => g.config.init_lora_weights as string))].sort();
  const growRows: string[][] = [];
  for (const r of [...new Set([...growRanks, ...initGroups.map((g) => g.rank as number)])].sort((a, b) => a - b)) {
    growRows.push([`lora r=${r} (default init)`, ...tasks.map((t) => cell(rankGroup('lora', t.id, r)?.stats))]);
    if (growRanks.has(r)) growRows.push([`lora-grow to r=${r}`, ...tasks.map((t) => cell(rankGroup('lora-grow', t.id, r)?.stats))]);
    for (const init of inits) {
      // The variant at the default-init point's learning rate, so the two differ only in the initialisation.
      const variant = (task: string) => {
        const base = rankGroup('lora', task, r);
        return initGroups.find((g) => g.task === task && g.rank === r && g.config.init_lora_weights === init && (!base || g.lr === base.lr));
      };
      if (tasks.some((t) => variant(t.id))) growRows.push([`lora r=${r}, ${init} init`, ...tasks.map((t) => cell(variant(t.id)?.stats))]);
    }
  }

  // 3b. Synthesis from W (grids/synthesis.yaml): attn-synth, LoRA initialised by an autoencoder of W, by pooling and
  // by PiSSA, and default LoRA at attn-synth's parameter counts; fit time and φ from the runs' analysis.init.
  const analysisOf = new Map(agg.analysis.raw.map((a) => [a.runId, a.analysis]));
  const atDefaultLr = (gs: ConfigGroup[]) => {
    const bySeeds = [...gs].sort((a, b) => b.stats.n - a.stats.n);
    return bySeeds.find((g) => Math.abs(g.lr - defaultLrOf(String(g.config.model ?? 'naive').split('@')[0]!, g.method)) <= 1e-6 * g.lr) ?? bySeeds[0];
  };
  const initMean = (gs: (ConfigGroup | undefined)[], key: string) => mean(gs.flatMap((g) => g?.runIds ?? []).map((id) => {
    const v = (analysisOf.get(id)?.init as Record<string, unknown> | undefined)?.[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }).filter((v): v is number => v !== null));
  const synthRow = (label: string, pick: (g: ConfigGroup) => boolean): string[] | null => {
    const gs = tasks.map((t) => atDefaultLr(agg.groups.filter((g) => g.task === t.id && pick(g))));
    const any = gs.find((g) => g);
    if (!any) return null;
    const fit = initMean(gs, 'fit_seconds');
    return [label, int(any.params.trainable), ...gs.map((g) => cell(g?.stats)), fit === null ? '—' : `${num(fit, 1)} s`, num(initMean(gs, 'phi_output'))];
  };
  const loraWith = (init: string, r: number) => (g: ConfigGroup) =>
    g.method === 'lora' && g.rank === r && (g.config.init_lora_weights ?? 'default') === init && g.config.use_rslora !== true;
  const windows = [...new Set(agg.groups.filter((g) => g.method === 'attn-synth' && g.rank !== null).map((g) => g.rank as number))].sort((a, b) => a - b);
  const aeRanks = (init: string) => [...new Set(agg.groups.filter((g) => g.method === 'lora' && g.config.init_lora_weights === init).map((g) => g.rank as number))];
  const synthRows: string[][] = [];
  if (windows.length > 0 || aeRanks('autoencoder').length + aeRanks('autoencoder_mlp').length > 0) {
    const loraDefault = agg.groups.filter((g) => loraWith('default', g.rank as number)(g));
    const loraRanks = new Set([8, 64]);
    for (const w of windows) {
      // The default-LoRA rank whose trainable count is nearest to attn-synth's at this window.
      const count = agg.groups.find((g) => g.method === 'attn-synth' && g.rank === w)!.params.trainable;
      const nearest = [...loraDefault].sort((a, b) => Math.abs(a.params.trainable - count) - Math.abs(b.params.trainable - count))[0];
      if (nearest) loraRanks.add(nearest.rank as number);
      synthRows.push(synthRow(`attn-synth w=${w}`, (g) => g.method === 'attn-synth' && g.rank === w)!);
    }
    const ranks = [...new Set([...loraRanks, ...aeRanks('autoencoder'), ...aeRanks('autoencoder_mlp')])].sort((a, b) => a - b);
    for (const [init, label] of [['autoencoder', 'autoencoder (linear) init'], ['autoencoder_mlp', 'autoencoder (tanh MLP) init'], ['pool', 'pool init'], ['pissa', 'PiSSA init'], ['default', 'default init']]) {
      for (const r of ranks) {
        const row = synthRow(`lora r=${r}, ${label}`, loraWith(init!, r));
        if (row) synthRows.push(row);
      }
    }
  }

  // 4. LayerNorm: n outlier weights vs n random ones per layer, all of LayerNorm, LoRA r=8, frozen.
  const ns = [...new Set(agg.lnCurve.map((x) => x.n))].sort((a, b) => a - b);
  const lnCell = (task: string, method: string, n: number) => {
    const x = agg.lnCurve.find((c) => c.task === task && c.method === method && c.n === n);
    return x ? cell({ n: x.runs, mean: x.mean, std: x.std }) : '—';
  };
  const lnRows: string[][] = ns.flatMap((n) => ['ln-outlier', 'ln-random'].map((method) =>
    [`${method} n=${n}`, trainable(method, (g) => g.rank === n), ...tasks.map((t) => lnCell(t.id, method, n))]));
  if (agg.groups.some((g) => g.method === 'ln')) lnRows.push(['ln (every LayerNorm weight)', trainable('ln'), ...tasks.map((t) => ref('ln', t.id))]);
  const lnReferences = lnRows.length > 0 ? [
    ...(agg.rankCurves.some((r) => r.method === 'lora' && r.rank === 8) ? [['lora r=8', trainable('lora', (g) => g.rank === 8), ...tasks.map((t) => cell(rankGroup('lora', t.id, 8)?.stats))]] : []),
    ['frozen', '0', ...tasks.map((t) => ref('none', t.id))],
  ] : [];

  // 5. Stability: pooled seed spread and run outcomes per method; the learning-rate grid per method and task.
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
  const lrFactors = (() => {
    // The grid's learning rates as multiples of the method's default, from the largest grid.
    const x = agg.methodTask.reduce<(typeof agg.methodTask)[number] | null>((b, m) => (m.lrGrid.length > (b?.lrGrid.length ?? 1) ? m : b), null);
    if (!x) return '';
    const model = String(agg.groups.find((g) => g.method === x.method)?.config.model ?? 'naive').split('@')[0]!;
    const base = defaultLrOf(model, x.method);
    return ` (for example ${x.method} on ${x.task}: lr ${x.lrGrid.map((q) => `${Number((q.lr / base).toPrecision(3))}x`).join(', ')} of its default ${base})`;
  })();

  return [
    {
      id: 'rank', title: '1. Does a low rank suffice?',
      intro: 'Each method follows its default configuration across ranks; another configuration swept over ranks is a row of its own, named by what it changes (e.g. lora (use_rslora=true)). Simple tasks first, then reasoning.',
      tables: rankTables, empty: 'No method with a rank has finished yet.',
    },
    {
      id: 'complement', title: '2. What lives outside the top directions?',
      intro: 'The trained r=64 LoRA update cut into its singular components 1..8 and 9..64 (svd-slice), the part outside the r=8 update\'s subspaces (lora-complement post hoc), and a fresh r=64 update trained inside that complement.',
      tables: complementRows.length ? [{
        headers: ['task', 'lora r=8', 'lora r=64', 'r=64 components 1..8', 'r=64 components 9..64', 'r=64 minus r=8 subspaces (post hoc)', 'r=64 trained in the complement', 'frozen'],
        rows: complementRows,
      }] : [],
      empty: 'No svd-slice or lora-complement runs yet.',
    },
    {
      id: 'grow', title: '3. Can a small update be grown into a large one?',
      intro: 'lora-grow starts at a small rank and expands during training; PiSSA, MiLoRA and pooling initialise LoRA\'s factors from the pretrained weight.',
      tables: [
        ...(growRows.length ? [{ headers: ['configuration', ...tasks.map(taskHead)], rows: growRows }] : []),
        ...(synthRows.length ? [{
          title: 'Can the update be synthesised from W?',
          headers: ['configuration', 'trainable', ...tasks.map(taskHead), 'fit time', 'φ to top-r'],
          rows: synthRows,
          note: 'attn-synth builds ΔW from W\'s own windows by sliding-window attention (window w); the autoencoder inits fit a bottleneck of width r to W\'s rows '
            + 'and start LoRA from its codes and decoder. Fit time: seconds per run spent fitting the autoencoders; φ to top-r: similarity of the fitted '
            + 'decoder\'s subspace with W\'s top-r singular subspace (1 = the same, as PiSSA by construction), mean over modules and runs.',
        }] : []),
      ],
      empty: 'No lora-grow, initialisation or synthesis runs yet.',
    },
    {
      id: 'layernorm', title: '4. How much do LayerNorm weights carry?',
      intro: 'The n largest-magnitude LayerNorm weights per layer (ln-outlier) against n random ones (ln-random), all LayerNorm weights (ln), LoRA r=8 and the frozen base.',
      tables: lnRows.length ? [{ headers: ['configuration', 'trainable', ...tasks.map(taskHead)], rows: [...lnRows, ...lnReferences] }] : [],
      empty: 'No LayerNorm runs yet.',
    },
    {
      id: 'stability', title: '5. Which methods are stable?',
      tables: [
        ...(spreadRows.length ? [{
          title: 'Spread across seeds and run outcomes',
          headers: ['method', ...tasks.map((t) => `${t.id} seed std`), 'runs', 'diverged', 'failed'],
          rows: spreadRows,
          note: 'Seed std: the pooled standard deviation over seeds (root of the mean variance) of every configuration with two or more seeds.',
        }] : []),
        ...(lrRows.length ? [{
          title: 'Learning-rate sensitivity',
          headers: ['method', ...tasks.map((t) => `${t.id}: score by lr`)],
          rows: lrRows,
          note: `Scores at each learning rate of the grid, lowest first${lrFactors}, for one configuration (rank 8 where the method has a rank); in brackets, the share of the grid within 95% of its best.`,
        }] : []),
      ],
      empty: 'No runs yet.',
    },
  ];
}

function markdownTable(t: FindingsTable): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(t.headers), line(t.headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...t.rows.map(line)].join('\n');
}

/** The findings as one Markdown document (`pnpm bench report`). */
export function findingsMarkdown(agg: Aggregated): string {
  const scope = agg.scope ? `Protocol ${agg.scope.protocol} on model ${agg.scope.model}; records of other protocols or models are not pooled with these.` : '';
  const out = ['# What the results say', '', findingsProvenance(agg), '', scope, '', FINDINGS_CELLS, ''];
  for (const section of findings(agg)) {
    out.push(`## ${section.title}`, '');
    if (section.intro) out.push(section.intro, '');
    if (section.tables.length === 0) out.push(section.empty, '');
    for (const t of section.tables) {
      if (t.title) out.push(`### ${t.title}`, '');
      out.push(markdownTable(t), '');
      if (t.note) out.push(t.note, '');
    }
  }
  const convergence = convergenceTable(agg);
  if (convergence) out.push('## Convergence', '', markdownTable(convergence), '', convergence.note ?? '', '');
  return `${out.join('\n').trimEnd()}\n`;
}

/**
 * Steps to the best checkpoint on valid of each method's chosen configuration, per task (records that
 * stop early record it; null for fixed-step records, so no table then).
 */
export function convergenceTable(agg: Aggregated): FindingsTable | null {
  const rows = agg.methodTask.filter((r) => r.bestStepsToBest !== null);
  if (rows.length === 0) return null;
  const tasks = agg.tasks.filter((t) => rows.some((r) => r.task === t.id));
  const methods = [...new Set(rows.map((r) => r.method))].sort();
  const group = (method: string, task: string) => {
    const row = rows.find((r) => r.method === method && r.task === task);
    return row ? agg.groups.find((g) => g.method === method && g.task === task && g.configKey === row.bestConfigKey) : undefined;
  };
  return {
    headers: ['method', ...tasks.map((t) => t.id)],
    rows: methods.map((method) => [method, ...tasks.map((t) => {
      const c = group(method, t.id)?.convergence;
      if (!c) return '—';
      const stopped = Object.entries(c.stopped).map(([why, n]) => `${why} ${n}`).join(', ');
      return `${num(c.stepsToBest.mean, 0)} of ${num(c.stepsTaken.mean, 0)} (${stopped})`;
    })]),
    note: 'Cells: mean steps to the best checkpoint on valid of the configuration chosen on valid, of the mean steps taken (how its runs stopped).',
  };
}
