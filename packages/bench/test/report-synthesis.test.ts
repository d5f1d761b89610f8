// The synthesis table of the report (grids/synthesis.yaml): attn-synth and the autoencoder inits beside
// pooling, PiSSA and default LoRA at the nearest parameter count, with fit time and φ from analysis.init.
import { describe, it, expect } from 'vitest';
import { runRecord, type RunRecord } from '@peft-bench/results/record/schema';
import { aggregate, findingsMarkdown } from '@peft-bench/results/aggregate/index';
import { sampleRecord } from '@peft-bench/results/test/fixtures';

let counter = 0;
function run(method: string, rank: number, config: Record<string, unknown>, o: { seed?: number; primary: number; trainable: number; init?: Record<string, unknown> }): RunRecord {
  counter += 1;
  const r = sampleRecord(counter.toString(16).padStart(20, '0'));
  return runRecord.parse({
    ...r,
    method: { ...r.method, id: method, family: method === 'lora' ? 'low-rank' : 'seed-idea', config, rank },
    model: { ...r.model, id: 'default' },
    seed: o.seed ?? 0,
    training: { ...r.training, lr: 2e-3 },
    metrics: { ...r.metrics, primary: o.primary },
    params: { ...r.params, trainable: o.trainable },
    analysis: o.init ? { kind: 'low-rank', modules: {}, init: o.init } : null,
  });
}

describe('the synthesis table', () => {
  const lora = (r: number, init: string, o: Parameters<typeof run>[3]) => run('lora', r, { r, lora_alpha: 8, init_lora_weights: init }, o);
  const report = findingsMarkdown(aggregate([
    run('attn-synth', 8, { window: 8 }, { primary: 0.4, trainable: 4104 }),
    run('attn-synth', 8, { window: 8 }, { primary: 0.5, trainable: 4104, seed: 1 }),
    lora(8, 'autoencoder', { primary: 0.6, trainable: 16384, init: { fit_seconds: 2, phi_output: 0.9 } }),
    lora(8, 'autoencoder', { primary: 0.6, trainable: 16384, seed: 1, init: { fit_seconds: 4, phi_output: 0.8 } }),
    lora(2, 'default', { primary: 0.3, trainable: 4096 }),
    lora(4, 'default', { primary: 0.35, trainable: 8192 }),
    lora(8, 'default', { primary: 0.55, trainable: 16384 }),
    lora(8, 'pissa', { primary: 0.58, trainable: 16384 }),
  ]));
  const row = (start: string) => report.split('\n').find((l) => l.startsWith(start));

  it('lists each configuration with its trainable count, score per task, fit time and φ', () => {
    expect(report).toContain('### Can the update be synthesised from W?');
    expect(row('| configuration | trainable |')).toBe('| configuration | trainable | nli (accuracy) | fit time | φ to top-r |');
    expect(row('| attn-synth w=8 |')).toBe('| attn-synth w=8 | 4,104 | 0.450 ± 0.071 (2) | — | — |');
    // Fit time and φ: means over the runs' analysis.init (2 and 4 s; 0.9 and 0.8).
    expect(row('| lora r=8, autoencoder (linear) init |')).toBe('| lora r=8, autoencoder (linear) init | 16,384 | 0.600 ± 0.000 (2) | 3.0 s | 0.850 |');
    expect(row('| lora r=8, PiSSA init |')).toBe('| lora r=8, PiSSA init | 16,384 | 0.580 (1) | — | — |');
  });

  it('adds default LoRA at the rank whose count is nearest attn-synth’s, and at r=8', () => {
    expect(row('| lora r=2, default init |')).toBe('| lora r=2, default init | 4,096 | 0.300 (1) | — | — |');
    expect(row('| lora r=8, default init |')).toBe('| lora r=8, default init | 16,384 | 0.550 (1) | — | — |');
    expect(row('| lora r=4, default init |')).toBeUndefined();
  });
});
