// The length policy (lm-evaluation-harness's): contexts are cut from the left, an example whose
// target cannot fit is excluded and counted; a task may set its own maxima.
import { describe, expect, it } from 'vitest';
import { encodeExamples, fitExamples } from '../src/data/batch.ts';
import { ByteTokenizer } from '../src/tokenizer/index.ts';
import type { Example } from '../src/tasks/types.ts';

const tokenizer = new ByteTokenizer();
const example = (id: string, prompt: string, target: string): Example => ({ id, prompt, target });

describe('fitExamples', () => {
  it('excludes targets that cannot fit and counts truncated contexts', () => {
    const maxSeq = 32;
    const bos = tokenizer.bosId !== undefined ? 1 : 0;
    const examples = [
      example('ok', 'short prompt', ' yes'),
      example('long-context', 'x'.repeat(100), ' yes'),
      // target + EOS (+ BOS) exactly fills the row: kept, its prompt is cut to nothing.
      example('fits', 'p', ` ${'t'.repeat(maxSeq - bos - 1)}`),
      example('too-long', 'p', ` ${'t'.repeat(maxSeq)}`),
    ];
    const fitted = fitExamples(tokenizer, examples, { maxSeq });
    expect(fitted.kept.map((e) => e.id)).toEqual(['ok', 'long-context', 'fits']);
    expect(fitted.excluded).toEqual(['too-long']);
    expect(fitted.truncated).toEqual(['long-context', 'fits']);
    // What is kept encodes without error, the long context keeping its end.
    const encoded = encodeExamples(tokenizer, fitted.kept, { maxSeq });
    expect(encoded.truncated).toEqual(['long-context', 'fits']);
    expect(() => encodeExamples(tokenizer, examples, { maxSeq })).toThrow(/Example too-long: the target is/);
  });

  it('applies a task\'s own maxima: longer targets excluded, contexts kept to their last tokens', () => {
    const examples = [example('a', 'abcdefghij', ' 12345'), example('b', 'abc', ' 1234567890')];
    const fitted = fitExamples(tokenizer, examples, { maxSeq: 64, maxContext: 4, maxTarget: 8 });
    expect(fitted.excluded).toEqual(['b']);
    expect(fitted.truncated).toEqual(['a']);
    const encoded = encodeExamples(tokenizer, fitted.kept, { maxSeq: 64, maxContext: 4 });
    const bos = tokenizer.bosId !== undefined ? 1 : 0;
    expect(encoded.promptLengths[0]).toBe(bos + 4);
    expect(tokenizer.decode(Array.from(encoded.tokens.slice(bos, bos + 4)))).toBe('ghij');
  });
});
