// Question 3: can a small update be grown into a large one? lora-grow, LoRA initialised from W (PiSSA,
// MiLoRA, pooling), and updates synthesised from W (attn-synth, autoencoder inits) beside default LoRA.
import type { ConfigGroup } from '../../src/aggregate/aggregate.ts';
import { mean } from '../../src/aggregate/stats.ts';
import { cell, defineStudy, groupCell, int, num, type FindingsTable } from '../define.ts';

export default defineStudy({
  id: 'grow',
  order: 3,
  title: '3. Can a small update be grown into a large one?',
  intro: 'lora-grow starts at a small rank and expands during training; PiSSA, MiLoRA and pooling initialise LoRA\'s factors from the pretrained weight.',
  empty: 'No lora-grow, initialisation or synthesis runs yet.',
  methods: { grow: 'lora-grow' },
  chart: { page: 'analysis', anchor: 'overlap-w', label: 'Analysis: similarity to the pretrained weight' },
  tables({ agg, tasks, rankGroup, atDefaultLr, taskHead }) {
    // lora-grow and the inits from W beside default LoRA at each rank.
    const growRanks = new Set(agg.rankCurves.filter((r) => r.method === 'lora-grow').map((r) => r.rank));
    const initGroups = agg.groups.filter((g) => g.method === 'lora' && typeof g.config.init_lora_weights === 'string' && g.config.init_lora_weights !== 'default');
    const inits = [...new Set(initGroups.map((g) => g.config.init_lora_weights as string))].sort();
    const growRows: string[][] = [];
    for (const r of [...new Set([...growRanks, ...initGroups.map((g) => g.rank as number)])].sort((a, b) => a - b)) {
      growRows.push([`lora r=${r} (default init)`, ...tasks.map((t) => groupCell(rankGroup('lora', t.id, r)))]);
      if (growRanks.has(r)) growRows.push([`lora-grow to r=${r}`, ...tasks.map((t) => groupCell(rankGroup('lora-grow', t.id, r)))]);
      for (const init of inits) {
        // The variant at the default-init point's learning rate, so the two differ only in the initialisation.
        const variant = (task: string) => {
          const base = rankGroup('lora', task, r);
          return initGroups.find((g) => g.task === task && g.rank === r && g.config.init_lora_weights === init && (!base || g.lr === base.lr));
        };
        if (tasks.some((t) => variant(t.id))) growRows.push([`lora r=${r}, ${init} init`, ...tasks.map((t) => cell(variant(t.id)?.stats))]);
      }
    }

    // Synthesis from W (the synthesis grid): attn-synth, LoRA initialised by an autoencoder of W, by pooling and
    // by PiSSA, and default LoRA at attn-synth's parameter counts; fit time and φ from the runs' analysis.init.
    const analysisOf = new Map(agg.analysis.raw.map((a) => [a.runId, a.analysis]));
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
    const tables: FindingsTable[] = [];
    if (growRows.length) tables.push({ headers: ['configuration', ...tasks.map(taskHead)], rows: growRows });
    if (synthRows.length) {
      tables.push({
        title: 'Can the update be synthesised from W?',
        headers: ['configuration', 'trainable', ...tasks.map(taskHead), 'fit time', 'φ to top-r'],
        rows: synthRows,
        note: 'attn-synth builds ΔW from W\'s own windows by sliding-window attention (window w); the autoencoder inits fit a bottleneck of width r to W\'s rows '
          + 'and start LoRA from its codes and decoder. Fit time: seconds per run spent fitting the autoencoders; φ to top-r: similarity of the fitted '
          + 'decoder\'s subspace with W\'s top-r singular subspace (1 = the same, as PiSSA by construction), mean over modules and runs.',
      });
    }
    return tables;
  },
});
