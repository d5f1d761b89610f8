import { describe, expect, it } from 'vitest';
import { parseSeeds, parseSets, parsePositiveInt, parsePositiveNumber, parseUtcTime } from '../src/cli/values.ts';

describe('CLI values', () => {
  it('parse times as UTC unless they say otherwise', () => {
    expect(parseUtcTime('--since', '2026-12-03T15:00')).toBe('2026-12-03T15:00:00.000Z');
    expect(parseUtcTime('--since', '2026-12-03')).toBe('2026-12-03T00:00:00.000Z');
    expect(parseUtcTime('--since', '2026-12-03T15:00+01:00')).toBe('2026-12-03T14:00:00.000Z');
    expect(() => parseUtcTime('--since', 'yesterday')).toThrow(/Invalid --since "yesterday": give a date or time/);
    expect(() => parseUtcTime('--until', '2026-13-45')).toThrow(/Invalid --until/);
  });

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
