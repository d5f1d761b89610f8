// The Playground's build-time data: the manifest packages/playground's build writes (model, methods,
// tasks from the bench's registries) and, for each configuration it offers, the leaderboard's groups
// to compare a browser run with. The worker, wasm files and model are copied next to the page by
// integrations/playground.mjs.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BoardConfig, Manifest } from '@peft-bench/playground/protocol';
import type { SiteData } from './data.ts';

type Aggregated = SiteData['agg'];

export const PLAYGROUND_DIST = join(dirname(fileURLToPath(import.meta.url)), '../../../packages/playground/dist');

export function loadManifest(): Manifest {
  const file = join(PLAYGROUND_DIST, 'manifest.json');
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: build the Playground first (pnpm --filter @peft-bench/playground build; turbo does it before the site)`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

const TRAINING_FIELDS = new Set(['rank', 'lr', 'steps', 'batch_size', 'micro_batch_size', 'schedule', 'warmup_steps', 'weight_decay', 'grad_clip', 'max_seq_len', 'model']);

export function boardConfigs(agg: Aggregated, manifest: Manifest): BoardConfig[] {
  const methods = new Set(manifest.methods.map((m) => m.id));
  const tasks = new Set(manifest.tasks.map((t) => t.id));
  return agg.groups
    .filter((g) => !g.derived && methods.has(g.method) && tasks.has(g.task))
    .map((g) => ({
      method: g.method,
      task: g.task,
      rank: g.rank,
      lr: g.lr,
      steps: Number(g.config.steps),
      model: String(g.config.model),
      config: Object.fromEntries(Object.entries(g.config).filter(([k]) => !TRAINING_FIELDS.has(k) && !k.startsWith('task.'))),
      label: g.configLabel,
      mean: g.stats.mean,
      std: g.stats.std,
      n: g.stats.n,
      runId: g.runIds[0] ?? null,
    }));
}
