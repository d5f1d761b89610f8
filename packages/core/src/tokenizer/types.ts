export interface Tokenizer {
  /** Number of ids, specials included: embedding tables are this large. */
  readonly vocabSize: number;
  readonly eosId: number;
  readonly padId: number;
  readonly bosId?: number;
  /** Ids of the text; never adds BOS/EOS (batching adds them). */
  encode(text: string): number[];
  /** Text of the ids; special tokens are skipped. */
  decode(ids: readonly number[]): string;
  /** A JSON-serialisable form that `tokenizerFromJSON` turns back into an equal tokenizer. */
  toJSON(): object;
}
