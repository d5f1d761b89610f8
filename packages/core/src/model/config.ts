// Model configuration: two decoder-only flavours, GPT-2 (learned positions, LayerNorm, GELU, biases)
// and Llama (RoPE, RMSNorm, SwiGLU, no biases, optional grouped-query attention).

export type ModelFamily = 'gpt2' | 'llama';
export const MODEL_FAMILIES: readonly ModelFamily[] = ['gpt2', 'llama'];

/** Llama 3 style frequency scaling of RoPE (HF `rope_scaling`), or plain linear position scaling. */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface ModelConfig {
  family: ModelFamily;
  vocabSize: number;
  /** Hidden width. */
  d: number;
  nLayer: number;
  /** Query heads; d must be a multiple of it. */
  nHead: number;
  /** Key/value heads (Llama grouped-query attention); default nHead. nHead must be a multiple of it. */
  nKvHead: number;
  /** Longest sequence (learned position table for GPT-2, RoPE table for Llama). */
  maxSeq: number;
  /** MLP hidden width; default 4d for GPT-2, required for Llama. */
  mlpHidden: number;
  /** Norm epsilon; default 1e-5 (GPT-2's LayerNorm, Llama's RMSNorm). */
  normEps: number;
  /** RoPE base (Llama only); default 10000. */
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  /** Output head shares the token embedding matrix; default true. */
  tieEmbeddings: boolean;
}

export type ModelConfigInput = Pick<ModelConfig, 'family' | 'vocabSize' | 'd' | 'nLayer' | 'nHead' | 'maxSeq'> &
  Partial<Omit<ModelConfig, 'family' | 'vocabSize' | 'd' | 'nLayer' | 'nHead' | 'maxSeq'>>;

function positiveInt(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`model config: ${field}=${String(value)} is invalid: must be a positive integer`);
  }
  return value;
}

/** Fills defaults and checks every field; throws a message naming the field and what is valid. */
export function resolveModelConfig(input: ModelConfigInput): ModelConfig {
  if (input == null || typeof input !== 'object') throw new Error('model config: expected an object');
  if (!MODEL_FAMILIES.includes(input.family)) {
    throw new Error(`model config: family='${String(input.family)}' is unknown: valid families are ${MODEL_FAMILIES.join(', ')}`);
  }
  const vocabSize = positiveInt('vocabSize', input.vocabSize);
  const d = positiveInt('d', input.d);
  const nLayer = positiveInt('nLayer', input.nLayer);
  const nHead = positiveInt('nHead', input.nHead);
  const maxSeq = positiveInt('maxSeq', input.maxSeq);
  if (d % nHead !== 0) {
    throw new Error(`model config: d=${d} is not divisible by nHead=${nHead}: choose d a multiple of nHead`);
  }
  const nKvHead = positiveInt('nKvHead', input.nKvHead ?? nHead);
  if (nHead % nKvHead !== 0) {
    throw new Error(`model config: nHead=${nHead} is not divisible by nKvHead=${nKvHead}: choose nKvHead a divisor of nHead`);
  }
  if (input.family === 'gpt2' && nKvHead !== nHead) {
    throw new Error(`model config: nKvHead=${nKvHead} differs from nHead=${nHead}, but grouped-query attention is only available for family 'llama'`);
  }
  if (input.family === 'llama' && input.mlpHidden == null) {
    throw new Error("model config: mlpHidden is required for family 'llama' (e.g. about 8/3·d rounded up)");
  }
  const mlpHidden = positiveInt('mlpHidden', input.mlpHidden ?? 4 * d);
  const headDim = d / nHead;
  if (input.family === 'llama' && headDim % 2 !== 0) {
    throw new Error(`model config: head size d/nHead=${headDim} is odd; RoPE needs an even head size`);
  }
  const normEps = input.normEps ?? 1e-5;
  if (!(typeof normEps === 'number' && normEps > 0 && Number.isFinite(normEps))) {
    throw new Error(`model config: normEps=${String(normEps)} is invalid: must be a positive number`);
  }
  const ropeTheta = input.ropeTheta ?? 10000;
  if (!(typeof ropeTheta === 'number' && ropeTheta > 0 && Number.isFinite(ropeTheta))) {
    throw new Error(`model config: ropeTheta=${String(ropeTheta)} is invalid: must be a positive number`);
  }
  const ropeScaling = input.ropeScaling ?? null;
  if (ropeScaling != null) {
    if (input.family !== 'llama') throw new Error("model config: ropeScaling applies only to family 'llama'");
    if (ropeScaling.type !== 'linear' && ropeScaling.type !== 'llama3') {
      throw new Error(`model config: ropeScaling.type='${String((ropeScaling as { type: unknown }).type)}' is unknown: valid types are linear, llama3`);
    }
    if (!(ropeScaling.factor > 0)) throw new Error(`model config: ropeScaling.factor=${ropeScaling.factor} must be positive`);
  }
  const tieEmbeddings = input.tieEmbeddings ?? true;
  if (typeof tieEmbeddings !== 'boolean') {
    throw new Error(`model config: tieEmbeddings=${String(tieEmbeddings)} is invalid: must be true or false`);
  }
  return {
    family: input.family, vocabSize, d, nLayer, nHead, nKvHead, maxSeq, mlpHidden, normEps, ropeTheta, ropeScaling, tieEmbeddings,
  };
}

export function headDim(config: ModelConfig): number {
  return config.d / config.nHead;
}
