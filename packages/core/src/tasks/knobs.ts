// Knob schemas shared by every task, and validation with messages that name the field.
import { z } from 'zod';

/** Split-size knobs for a synthetic task, plus the seed of the evaluation splits. */
export function syntheticSplitKnobs(defaults: { train: number; valid: number; test: number }) {
  return {
    train: z.number().int().min(1).max(1_000_000).default(defaults.train).describe('Number of training examples.'),
    valid: z.number().int().min(1).max(100_000).default(defaults.valid).describe('Number of validation examples.'),
    test: z.number().int().min(1).max(100_000).default(defaults.test).describe('Number of test examples.'),
    evalSeed: z
      .number()
      .int()
      .default(0)
      .describe(
        'Seed of the valid/test generator. Fixed by default so every run seed is scored on the same examples; the run seed only changes the training examples.',
      ),
  };
}

/** Limits for a real-tier task: default = every record in the file. */
export function realSplitKnobs(defaults: { valid: number }) {
  return {
    train: z.number().int().min(1).optional().describe('Use at most this many training records (seeded sample); default all.'),
    valid: z.number().int().min(1).default(defaults.valid).describe('Number of validation examples.'),
    test: z.number().int().min(1).optional().describe('Use at most this many test records (fixed sample); default all.'),
  };
}

/** Fill defaults and check knob values; the error names the task, each bad field and the valid knobs. */
export function parseKnobs<K>(taskId: string, schema: z.ZodType<K>, knobs: unknown): K {
  const result = schema.safeParse(knobs ?? {});
  if (result.success) return result.data;
  const valid = knobNames(schema);
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(knobs)';
    return `  ${field}: ${issue.message}`;
  });
  throw new Error(
    `Invalid knobs for task '${taskId}':\n${problems.join('\n')}\nValid knobs: ${valid.join(', ')}`,
  );
}

export function knobNames(schema: z.ZodType<unknown>): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** Each knob's default (undefined where the default is "all records"). */
export function knobDefaults(schema: z.ZodType<unknown>): Record<string, unknown> {
  return schema.parse({}) as Record<string, unknown>;
}

/** Each knob's description, for the CLI and the site. */
export function knobDescriptions(schema: z.ZodType<unknown>): Record<string, string> {
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType<unknown>> }).shape ?? {};
  const out: Record<string, string> = {};
  for (const [name, field] of Object.entries(shape)) out[name] = field.description ?? '';
  return out;
}
