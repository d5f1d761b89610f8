// Learning-rate schedules: linear warm-up to the peak, then cosine or linear decay to
// minLrRatio·lr at the last step (or constant).

export type Schedule = 'cosine' | 'linear' | 'constant';
export const SCHEDULES: readonly Schedule[] = ['cosine', 'linear', 'constant'];

export interface ScheduleOptions {
  lr: number;
  steps: number;
  warmupSteps: number;
  schedule: Schedule;
  minLrRatio: number;
}

/** Learning rate for the 0-based step. */
export function learningRateAt(step: number, o: ScheduleOptions): number {
  if (!SCHEDULES.includes(o.schedule)) {
    throw new Error(`schedule '${String(o.schedule)}' is unknown: valid schedules are ${SCHEDULES.join(', ')}`);
  }
  if (step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
  if (o.schedule === 'constant') return o.lr;
  const decaySteps = Math.max(1, o.steps - o.warmupSteps - 1);
  const progress = Math.min(1, (step - o.warmupSteps) / decaySteps);
  const minLr = o.lr * o.minLrRatio;
  if (o.schedule === 'linear') return o.lr - (o.lr - minLr) * progress;
  return minLr + (o.lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
