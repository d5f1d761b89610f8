// Hugging Face tokenizer.json files (GPT-2, Llama, and the byte-level BPE this package trains),
// read with @huggingface/tokenizers. Special-token ids come from tokenizer_config.json when it sits
// next to the file, else from the usual token names. Reading and writing the files is in file.ts (Node).
import { Tokenizer as HfLibTokenizer } from '@huggingface/tokenizers';
import { BYTE_TOKENIZER_TYPE, ByteTokenizer } from './byte.ts';
import type { Tokenizer } from './types.ts';

const EOS_NAMES = ['<|endoftext|>', '</s>', '<|end_of_text|>', '<|eot_id|>', '<eos>'];
const BOS_NAMES = ['<s>', '<|begin_of_text|>', '<bos>', '<|endoftext|>'];
const PAD_NAMES = ['<pad>', '<|pad|>', '[PAD]'];

type TokenSetting = string | { content: string } | null | undefined;

function tokenName(setting: TokenSetting): string | undefined {
  if (typeof setting === 'string') return setting;
  return setting?.content;
}

export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly eosId: number;
  readonly padId: number;
  readonly bosId?: number;
  private readonly lib: HfLibTokenizer;

  constructor(
    private readonly json: Record<string, unknown>,
    config: Record<string, unknown> = {},
    source = 'tokenizer.json',
  ) {
    const model = json.model as { type?: string } | undefined;
    if (!model || typeof model.type !== 'string') {
      throw new Error(`${source}: not a Hugging Face tokenizer.json (no model.type); expected e.g. {"model": {"type": "BPE", ...}}`);
    }
    this.lib = new HfLibTokenizer(json, config);
    const vocab = this.lib.get_vocab(true);
    let maxId = -1;
    for (const id of vocab.values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;

    const find = (setting: TokenSetting, names: string[]): number | undefined => {
      const configured = tokenName(setting);
      if (configured !== undefined) return this.lib.token_to_id(configured);
      for (const name of names) {
        const id = this.lib.token_to_id(name);
        if (id !== undefined) return id;
      }
      return undefined;
    };
    const eos = find(config.eos_token as TokenSetting, EOS_NAMES);
    if (eos === undefined) {
      const added = [...this.lib.get_added_tokens_decoder().values()].map((t) => t.content);
      throw new Error(
        `${source}: no end-of-sequence token found (looked for tokenizer_config.json eos_token, then ${EOS_NAMES.join(', ')}); ` +
          `added tokens are: ${added.join(', ') || 'none'}`,
      );
    }
    this.eosId = eos;
    this.bosId = find(config.bos_token as TokenSetting, BOS_NAMES);
    this.padId = find(config.pad_token as TokenSetting, PAD_NAMES) ?? eos;
  }

  encode(text: string): number[] {
    return this.lib.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[]): string {
    // The library rejects an empty list; an empty generation (EOS first) is the empty string.
    if (ids.length === 0) return '';
    return this.lib.decode(ids as number[], { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  /** The tokenizer.json content. */
  toJSON(): object {
    return this.json;
  }
}

/** A tokenizer from its JSON form: our byte tokenizer, or any Hugging Face tokenizer.json. */
export function tokenizerFromJSON(json: unknown, config: Record<string, unknown> = {}, source = 'tokenizer.json'): Tokenizer {
  if (typeof json !== 'object' || json === null) throw new Error(`${source}: expected a JSON object`);
  if ((json as { type?: unknown }).type === BYTE_TOKENIZER_TYPE) return new ByteTokenizer();
  return new HfTokenizer(json as Record<string, unknown>, config, source);
}
