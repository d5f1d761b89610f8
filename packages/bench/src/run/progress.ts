// Progress events a run reports while it trains and evaluates (drawn as a bar by the CLI).
export interface RunProgress {
  phase: 'setup' | 'train' | 'eval' | 'done';
  step: number;
  totalSteps: number;
  loss: number | null;
  tokensPerS: number | null;
  /** Free text for the setup and eval phases ("loading model", "decoding test"). */
  note?: string;
}
