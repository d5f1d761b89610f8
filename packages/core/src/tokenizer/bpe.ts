// Training a GPT-2 style byte-level BPE, saved as a Hugging Face tokenizer.json (model.type 'BPE',
// ByteLevel pre-tokenizer and decoder) so the same loader reads it and real checkpoints' files.
//
// Vocabulary layout: ids 0..255 are the bytes (in byte order, written in GPT-2's byte alphabet),
// then one id per merge in the order learned, then <|endoftext|> (EOS, also BOS) and <|pad|>.
import { BYTE_TO_CHAR, byteLevelPieces } from './bytelevel.ts';
import { HfTokenizer } from './hf.ts';

export const BPE_EOS = '<|endoftext|>';
export const BPE_PAD = '<|pad|>';
const SPECIALS = [BPE_EOS, BPE_PAD];

export interface TrainBpeOptions {
  /** A pair must occur at least this often to be merged (default 2). */
  minFrequency?: number;
}

export interface BpeModel {
  vocab: Record<string, number>;
  merges: string[];
}

/** Learn merges until the vocabulary (bytes + merges + 2 specials) has `vocabSize` entries. */
export function learnBpe(texts: Iterable<string>, vocabSize: number, { minFrequency = 2 }: TrainBpeOptions = {}): BpeModel {
  const minimum = 256 + SPECIALS.length;
  if (!Number.isInteger(vocabSize) || vocabSize < minimum || vocabSize > 65_536) {
    throw new Error(`trainBpe: vocabSize must be an integer in [${minimum}, 65536] (256 bytes + ${SPECIALS.length} specials), got ${vocabSize}`);
  }
  const symbols: string[] = BYTE_TO_CHAR.slice();
  const idOf = new Map(symbols.map((s, i) => [s, i]));

  // Distinct pieces with their counts; each piece is a sequence of symbol ids.
  const pieceCounts = new Map<string, number>();
  for (const text of texts) for (const piece of byteLevelPieces(text)) pieceCounts.set(piece, (pieceCounts.get(piece) ?? 0) + 1);
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [piece, count] of pieceCounts) {
    words.push([...piece].map((ch) => idOf.get(ch)!));
    freqs.push(count);
  }

  // Pair statistics: count of each adjacent pair, and the words it occurs in.
  const pairKey = (a: number, b: number) => a * 65_536 + b;
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addWord = (w: number, sign: 1 | -1) => {
    const word = words[w];
    for (let i = 0; i + 1 < word.length; i++) {
      const key = pairKey(word[i], word[i + 1]);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * freqs[w]);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addWord(w, 1);

  const merges: string[] = [];
  while (symbols.length + SPECIALS.length < vocabSize) {
    // Most frequent pair; ties go to the lexicographically smaller pair, so results do not depend on map order.
    let bestKey = -1;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && count > 0 && pairLess(key, bestKey))) {
        bestKey = key;
        bestCount = count;
      }
    }
    if (bestCount < minFrequency) break;
    const left = Math.floor(bestKey / 65_536);
    const right = bestKey % 65_536;
    const merged = symbols.length;
    symbols.push(symbols[left] + symbols[right]);
    merges.push(`${symbols[left]} ${symbols[right]}`);

    for (const w of [...(pairWords.get(bestKey) ?? [])]) {
      addWord(w, -1);
      const word = words[w];
      const next: number[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
          next.push(merged);
          i++;
        } else next.push(word[i]);
      }
      words[w] = next;
      addWord(w, 1);
    }
    pairCounts.delete(bestKey);
    pairWords.delete(bestKey);
  }

  function pairLess(a: number, b: number): boolean {
    if (b < 0) return true;
    const [a1, a2] = [symbols[Math.floor(a / 65_536)], symbols[a % 65_536]];
    const [b1, b2] = [symbols[Math.floor(b / 65_536)], symbols[b % 65_536]];
    return a1 < b1 || (a1 === b1 && a2 < b2);
  }

  const vocab: Record<string, number> = {};
  symbols.forEach((symbol, id) => (vocab[symbol] = id));
  SPECIALS.forEach((special, i) => (vocab[special] = symbols.length + i));
  return { vocab, merges };
}

/** The tokenizer.json document for a byte-level BPE model. */
export function byteLevelBpeJson({ vocab, merges }: BpeModel): Record<string, unknown> {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content) => ({
      id: vocab[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/** Train a byte-level BPE on `texts`; the result serialises (toJSON) as a Hugging Face tokenizer.json. */
export function trainBpe(texts: Iterable<string>, vocabSize: number, options: TrainBpeOptions = {}): HfTokenizer {
  return new HfTokenizer(byteLevelBpeJson(learnBpe(texts, vocabSize, options)), {}, 'trained BPE');
}
