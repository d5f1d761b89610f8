// The shapes of the methods' analysis outputs (record.analysis), one zod schema per kind. A method names its
// schema in its definition (packages/methods/<id>/index.ts, `analysis`); the conformance suite checks that
// what it reports parses, and readers of records parse by `kind` instead of guessing from key names.
import { z } from 'zod';

const scores = z.record(z.string(), z.number());

/** φ(i, j) between the top-i and top-j singular directions of two matrices. */
export const similarityGrid = z.object({ is: z.array(z.number()), js: z.array(z.number()), phi: z.array(z.array(z.number().nullable())) });

const skipped = z.object({ reason: z.string(), modules: z.array(z.string()) });

/** One updated linear: core's deltaReport of ΔW against the pretrained W. */
export const deltaModule = z.object({
  shape: z.tuple([z.number().int(), z.number().int()]),
  rank: z.number().int(),
  frobenius: z.number(),
  singularValues: z.array(z.number()),
  /** Share of ‖ΔW‖² in the top k singular components: top1, top2, ... */
  energy: scores,
  /** How much ΔW amplifies directions W does not emphasise (the LoRA paper's Table 7). */
  amplification: z.object({ r: z.number(), factor: z.number(), projectedWNorm: z.number(), deltaNorm: z.number() }).optional(),
  /** φ between ΔW's and W's top-k singular subspaces, output (left) and input (right) side. */
  overlapWithW: z.object({ left: scores, right: scores }).optional(),
});

/** Two updates compared (the complement study): the grid averaged over modules, and per module. */
export const subspaceSimilarity = z.object({
  small: z.string(),
  large: z.string(),
  vectors: z.literal('left'),
  mean: similarityGrid,
  modules: z.record(z.string(), similarityGrid.extend({ energyKept: z.number().optional() })),
  skipped: z.array(skipped).optional(),
});

export const complementSummary = z.object({
  side: z.string(), energyKept: z.number(), phiTop1: z.number(), phiSmallRank: z.number(), phiFull: z.number(),
});

/** Methods whose change is a weight update ΔW per linear (LoRA and its relatives, VeRA, attn-synth, ...). */
export const lowRankAnalysisSchema = z.object({
  kind: z.literal('low-rank'),
  modules: z.record(z.string(), deltaModule),
  skipped: skipped.optional(),
  subspaceSimilarity: subspaceSimilarity.optional(),
  complement: complementSummary.optional(),
  /** How the factors were initialised from W (PiSSA, autoencoders, pooling): fit time, errors, φ to W's top-r. */
  init: z.record(z.string(), z.unknown()).optional(),
  /** attn-synth's per-module attention statistics. */
  synthesis: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

/** One LayerNorm weight vector after training: its distribution and (for selective tuning) what was tuned. */
export const normLayer = z.object({
  dim: z.number().int(),
  mean: z.number(),
  std: z.number(),
  histogram: z.object({ min: z.number(), max: z.number(), counts: z.array(z.number().int().nonnegative()) }),
  bimodality: z.number().nullable(),
  maxZ: z.number().nullable(),
  tunedIndices: z.array(z.number().int()).optional(),
  meanAbsChange: z.number().optional(),
});

/** LayerNorm tuning (all weights, the n outliers, n random ones). */
export const normAnalysisSchema = z.object({ kind: z.literal('norm'), layers: z.record(z.string(), normLayer) });

export const ANALYSIS_SCHEMAS = { 'low-rank': lowRankAnalysisSchema, norm: normAnalysisSchema } as const;
export type AnalysisKind = keyof typeof ANALYSIS_SCHEMAS;
export type LowRankAnalysis = z.infer<typeof lowRankAnalysisSchema>;
export type NormAnalysis = z.infer<typeof normAnalysisSchema>;
export type MethodAnalysis = LowRankAnalysis | NormAnalysis;

/** A record's analysis parsed by its kind; a reason when it does not fit (unknown kind or shape). */
export function parseAnalysis(analysis: unknown): { ok: true; analysis: MethodAnalysis } | { ok: false; message: string } {
  const kind = (analysis as { kind?: unknown } | null)?.kind;
  const schema = typeof kind === 'string' ? ANALYSIS_SCHEMAS[kind as AnalysisKind] : undefined;
  if (!schema) return { ok: false, message: `analysis.kind ${JSON.stringify(kind)} is not one of ${Object.keys(ANALYSIS_SCHEMAS).join(', ')}` };
  const parsed = schema.safeParse(analysis);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, message: `analysis (${kind}): ${issue.path.map(String).join('.')}: ${issue.message}` };
  }
  return { ok: true, analysis: parsed.data };
}
