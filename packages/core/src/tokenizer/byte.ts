// The simplest tokenizer: one id per UTF-8 byte (0..255), then PAD, BOS, EOS.
import type { Tokenizer } from './types.ts';

export const BYTE_TOKENIZER_TYPE = 'peft-bench/byte';

export class ByteTokenizer implements Tokenizer {
  readonly padId = 256;
  readonly bosId = 257;
  readonly eosId = 258;
  readonly vocabSize = 259;
  private static readonly encoder = new TextEncoder();
  private static readonly decoder = new TextDecoder('utf-8', { fatal: false });

  encode(text: string): number[] {
    return Array.from(ByteTokenizer.encoder.encode(text));
  }

  decode(ids: readonly number[]): string {
    // Special and out-of-range ids are skipped; broken UTF-8 sequences decode to U+FFFD.
    const bytes = Uint8Array.from(ids.filter((id) => Number.isInteger(id) && id >= 0 && id < 256));
    return ByteTokenizer.decoder.decode(bytes);
  }

  toJSON(): object {
    return { type: BYTE_TOKENIZER_TYPE, pad: this.padId, bos: this.bosId, eos: this.eosId };
  }
}
