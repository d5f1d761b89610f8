// What is known about a method without loading it: the one description of a method that the bench
// (`--list`, run specs), the site and aggregation share. The method definitions
// (packages/methods/<id>/index.ts, defineMethod) are its source; methods.json is their export for
// readers that must not load TensorFlow.js (a bench test keeps it equal to the definitions).
export interface HyperparameterInfo {
  name: string;
  /** JSON-schema type: integer, number, boolean, string, array. */
  type: string;
  default: unknown;
  description: string;
  /** Human-readable allowed values, e.g. "integer in 1..1024". */
  allowed: string;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
}

export interface MethodInfo {
  id: string;
  title: string;
  family: string;
  paper: { title: string; url: string; year?: number };
  /** One paragraph for the site. */
  description: string;
  /** The hyperparameter `--rank` sets (r, bottleneck, num_virtual_tokens, n, window); null = no rank. */
  rankParam: string | null;
  /** What one unit of that rank is, for axis titles: 'rank r', 'bottleneck size', 'virtual tokens', ... */
  rankMeaning: string | null;
  /** A reference point rather than a PEFT method: the frozen base (`none`) and full fine-tuning. */
  baseline: boolean;
  /** Its default learning rate as a multiple of the model's (methods that move every weight need less). */
  lrScale: number;
  /**
   * What the deployed model carries: 'merged' (the update folds into the base weights), 'in-place' (base weights
   * tuned themselves): no extra parameters; 'added' (extra modules or tokens): its trainable parameters.
   */
  atInference: 'merged' | 'in-place' | 'added';
  /** The kind of its analysis output (its schema in analysis-schema.ts), or null when it reports none. */
  analysis: string | null;
  modelFamilies: string[];
  hyperparameters: HyperparameterInfo[];
}
