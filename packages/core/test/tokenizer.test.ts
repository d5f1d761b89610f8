import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BYTE_TO_CHAR,
  byteLevelPieces,
  ByteTokenizer,
  learnBpe,
  loadTokenizer,
  saveTokenizer,
  tokenizerFromJSON,
  trainBpe,
} from '../src/tokenizer/index.ts';

const SAMPLES = [
  'Table pets(name TEXT, age INTEGER)\nQ: How many pets have age over 3?\nSQL: SELECT COUNT(*) FROM pets WHERE age > 3',
  'Premise: All dogs are big. Sam is a dog.\nHypothesis: Sam is not small.\nLabel: contradiction',
  "Ann: lunch on Friday?\nBob: can't, Saturday?\n  tabs\tand  spaces  ",
  'Unicode: ünïcödé — naïve café 😀 日本語',
];

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'peft-bench-tok-'));
}

describe('ByteTokenizer', () => {
  it('round-trips any text and skips specials when decoding', () => {
    const tokenizer = new ByteTokenizer();
    expect(tokenizer.vocabSize).toBe(259);
    for (const text of SAMPLES) expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    expect(tokenizer.encode('é')).toEqual([0xc3, 0xa9]);
    expect(tokenizer.decode([tokenizer.bosId, 104, 105, tokenizer.eosId, tokenizer.padId])).toBe('hi');
    expect(tokenizerFromJSON(tokenizer.toJSON())).toBeInstanceOf(ByteTokenizer);
  });
});

describe('byte-level BPE training', () => {
  const corpus = Array.from({ length: 60 }, (_, i) => `${SAMPLES[i % SAMPLES.length]} ${i}`);

  it('reaches the asked vocabulary size, compresses, and round-trips', () => {
    const tokenizer = trainBpe(corpus, 400);
    expect(tokenizer.vocabSize).toBe(400);
    expect(tokenizer.eosId).toBe(398);
    expect(tokenizer.padId).toBe(399);
    expect(tokenizer.bosId).toBe(398);
    for (const text of [...SAMPLES, 'never seen: zebra quartz!']) {
      const ids = tokenizer.encode(text);
      expect(tokenizer.decode(ids)).toBe(text);
      expect(ids.every((id) => id >= 0 && id < 398)).toBe(true);
    }
    expect(tokenizer.encode(SAMPLES[0]).length).toBeLessThan(SAMPLES[0].length / 2);
    expect(tokenizer.decode([...tokenizer.encode('SELECT'), tokenizer.eosId, tokenizer.padId])).toBe('SELECT');
    // A generation that stops at once decodes to the empty string.
    expect(tokenizer.decode([])).toBe('');
  });

  it('is deterministic and agrees with applying its merges by rank', () => {
    const model = learnBpe(corpus, 350);
    expect(learnBpe(corpus, 350)).toEqual(model);
    const tokenizer = trainBpe(corpus, 350);
    const rank = new Map(model.merges.map((m, i) => [m, i]));
    // Reference BPE: repeatedly merge the adjacent pair with the lowest rank.
    const encodePiece = (piece: string) => {
      let symbols = [...piece];
      for (;;) {
        let best = -1;
        for (let i = 0; i + 1 < symbols.length; i++) {
          const r = rank.get(`${symbols[i]} ${symbols[i + 1]}`);
          if (r !== undefined && (best < 0 || r < rank.get(`${symbols[best]} ${symbols[best + 1]}`)!)) best = i;
        }
        if (best < 0) return symbols.map((s) => model.vocab[s]);
        symbols = [...symbols.slice(0, best), symbols[best] + symbols[best + 1], ...symbols.slice(best + 2)];
      }
    };
    for (const text of SAMPLES) expect(tokenizer.encode(text)).toEqual(byteLevelPieces(text).flatMap(encodePiece));
  });

  it('saves as tokenizer.json and loads back identically', () => {
    const tokenizer = trainBpe(corpus, 300);
    const file = path.join(tempDir(), 'tokenizer.json');
    saveTokenizer(tokenizer, file);
    const loaded = loadTokenizer(file);
    expect(loaded.vocabSize).toBe(300);
    expect([loaded.eosId, loaded.padId, loaded.bosId]).toEqual([tokenizer.eosId, tokenizer.padId, tokenizer.bosId]);
    for (const text of SAMPLES) expect(loaded.encode(text)).toEqual(tokenizer.encode(text));
    const json = tokenizer.toJSON() as { model: { type: string }; pre_tokenizer: { type: string }; decoder: { type: string } };
    expect([json.model.type, json.pre_tokenizer.type, json.decoder.type]).toEqual(['BPE', 'ByteLevel', 'ByteLevel']);
  });

  it('rejects impossible vocabulary sizes', () => {
    expect(() => trainBpe(corpus, 100)).toThrow(/vocabSize must be an integer in \[258, 65536\]/);
  });
});

describe('loading a GPT-2 format tokenizer.json', () => {
  // A hand-made GPT-2 style file: the 256 byte symbols, seven merges, and <|endoftext|>.
  function writeTinyGpt2(withConfig: boolean): string {
    const vocab: Record<string, number> = {};
    BYTE_TO_CHAR.forEach((ch, id) => (vocab[ch] = id));
    const merges = ['h e', 'l l', 'he ll', 'hell o', 'Ġ w', 'o r', 'Ġw or'];
    merges.forEach((merge, i) => (vocab[merge.replace(' ', '')] = 256 + i));
    vocab['<|endoftext|>'] = 263;
    const json = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [{ id: 263, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, vocab, merges },
    };
    const dir = tempDir();
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    if (withConfig) writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|endoftext|>', pad_token: null }));
    return path.join(dir, 'tokenizer.json');
  }

  it('encodes by merge rank, as worked out by hand', () => {
    const tokenizer = loadTokenizer(writeTinyGpt2(true));
    expect(tokenizer.vocabSize).toBe(264);
    expect(tokenizer.eosId).toBe(263);
    expect(tokenizer.padId).toBe(263); // no pad token: falls back to EOS
    // "hello" -> he l l o -> he ll o -> hell o -> hello (259).
    // " world" -> Ġw o r l d -> Ġw or l d -> Ġwor l d (262, 'l' = 108, 'd' = 100).
    expect(tokenizer.encode('hello world')).toEqual([259, 262, 108, 100]);
    // No BOS/EOS added by encode; the post-processor's specials are not applied.
    expect(tokenizer.encode('hello')).toEqual([259]);
    expect(tokenizer.decode([259, 262, 108, 100, 263])).toBe('hello world');
    expect(tokenizer.encode('héllo\n')).toEqual([104, 0xc3, 0xa9, 257, 111, BYTE_TO_CHAR.indexOf('Ċ')]);
  });

  it('finds <|endoftext|> without a tokenizer_config.json', () => {
    expect(loadTokenizer(writeTinyGpt2(false)).eosId).toBe(263);
  });

  it('explains missing or foreign files', () => {
    expect(() => loadTokenizer('/nonexistent/tokenizer.json')).toThrow(/Tokenizer file not found: \/nonexistent\/tokenizer.json/);
    const file = path.join(tempDir(), 'tokenizer.json');
    writeFileSync(file, JSON.stringify({ hello: 1 }));
    expect(() => loadTokenizer(file)).toThrow(/not a Hugging Face tokenizer.json \(no model.type\)/);
  });
});
