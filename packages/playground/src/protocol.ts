// Messages between the Playground page and its training worker, and the manifest the build writes.

export type BrowserBackend = 'wasm' | 'webgl' | 'webgpu';
export const BROWSER_BACKENDS: readonly BrowserBackend[] = ['wasm', 'webgl', 'webgpu'];

/** What the page asks for; the worker validates it with the methods' and tasks' own schemas. */
export interface TrainRequest {
  task: string;
  method: string;
  /** The method's rank-like hyperparameter (r, n, ...); null for methods without one. */
  rank: number | null;
  lr: number;
  steps: number;
  batchSize: number;
  seed: number;
  backend: BrowserBackend;
  /** Test examples scored after training (the first five are shown). */
  testExamples: number;
}

export interface Sample {
  prompt: string;
  reference: string;
  base: string;
  tuned: string;
}

export type WorkerMessage =
  | { type: 'backend'; backend: BrowserBackend; note: string }
  | { type: 'status'; text: string }
  | { type: 'step'; step: number; totalSteps: number; loss: number; tokensPerS: number; elapsedS: number }
  | { type: 'samples'; samples: Sample[] }
  | {
      type: 'done';
      stoppedAt: number | null;
      steps: number;
      trainSeconds: number;
      totalSeconds: number;
      tokensPerS: number;
      trainable: number;
      metric: string;
      score: number;
      baseScore: number;
      testCount: number;
      config: Record<string, unknown>;
      /** The adapter as save() wrote it: file name -> bytes (adapter_config.json, adapter_model.safetensors). */
      adapter: Record<string, Uint8Array>;
    }
  | { type: 'error'; message: string };

export type PageMessage = { type: 'train'; request: TrainRequest } | { type: 'stop' };

export interface ManifestMethod {
  id: string;
  title: string;
  rankParam: string | null;
  defaultRank: number | null;
  /** The bench's default learning rate for this method on the default model. */
  lr: number;
}

export interface ManifestTask {
  id: string;
  title: string;
  primaryMetric: string;
}

/** Written by the build beside worker.js: what the page offers, from the registries. */
export interface Manifest {
  model: { id: string; params: number; hash: string };
  methods: ManifestMethod[];
  tasks: ManifestTask[];
  /** The bench's training settings for the default model (a playground run is shorter). */
  training: { batchSize: number; microBatch: number; maxSeqLen: number; schedule: string; warmupSteps: number; gradClip: number; weightDecay: number };
}

/** One leaderboard configuration a browser run can be compared with (built by the site from the run records). */
export interface BoardConfig {
  method: string;
  task: string;
  rank: number | null;
  lr: number;
  steps: number;
  /** The records' model as `id@hash`. */
  model: string;
  /** The method's hyperparameters in the group (training settings left out). */
  config: Record<string, unknown>;
  label: string;
  mean: number | null;
  std: number | null;
  n: number;
  runId: string | null;
}
