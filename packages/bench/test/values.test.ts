import { describe, expect, it } from 'vitest';
import { parseSeeds, parseSets, parsePositiveInt, parsePositiveNumber } from '../src/cli/values.ts';

describe('CLI values', () => {
  it('parse seeds as a count or a list', () => {
    expect(parseSeeds('3')).toEqual([0, 1, 2]);
    expect(parseSeeds('0,4,7')).toEqual([0, 4, 7]);
    expect(() => parseSeeds('0')).toThrow(/at least 1/);
    expect(() => parseSeeds('a,b')).toThrow(/Invalid --seeds "a,b"/);
    expect(() => parseSeeds('1,1')).toThrow(/twice/);
  });

  it('parse --set pairs, keeping values as strings for the method to coerce', () => {
    expect(parseSets(['lora_alpha=16', 'target_modules=q,v'])).toEqual({ lora_alpha: '16', target_modules: 'q,v' });
    expect(() => parseSets(['lora_alpha'])).toThrow(/expected key=value/);
    expect(() => parseSets(['a=1', 'a=2'])).toThrow(/set twice/);
  });

  it('reject non-numbers and non-positive values naming the flag', () => {
    expect(parsePositiveInt('--steps', '0', { allowZero: true })).toBe(0);
    expect(() => parsePositiveInt('--rank', '0')).toThrow(/Invalid --rank "0"/);
    expect(() => parsePositiveInt('--rank', '2.5')).toThrow(/integer/);
    expect(parsePositiveNumber('--lr', '1e-3')).toBe(0.001);
    expect(() => parsePositiveNumber('--lr', '-1')).toThrow(/Invalid --lr "-1"/);
  });
});
