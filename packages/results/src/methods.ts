// What readers of records need to know about methods and models without loading them: each method's
// learning-rate scale against the model's default learning rate.
import facts from './method-facts.json' with { type: 'json' };

const trainingLr = facts.training_lr as Record<string, number>;
const lrScale = facts.lr_scale as Record<string, number>;

/** The learning rate a run of `methodId` on `modelId` uses when nothing overrides it (the runner's default). */
export function defaultLr(modelId: string, methodId: string): number {
  return (trainingLr[modelId] ?? facts.fallback_training_lr) * (lrScale[methodId] ?? 1);
}
