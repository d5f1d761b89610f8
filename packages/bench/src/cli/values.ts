// Parsing of CLI flag values, each with a message that says what was wrong and what is valid.
import { InputError } from '../run/resolve.ts';

/** `--seeds 3` -> [0, 1, 2]; `--seeds 0,4,7` -> [0, 4, 7]. */
export function parseSeeds(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim()).filter(Boolean);
  if (parts.length === 0 || parts.some((part) => !/^\d+$/.test(part))) {
    throw new InputError(`Invalid --seeds "${text}": give a count (e.g. 3 for seeds 0,1,2) or a comma-separated list of non-negative integers (e.g. 0,4,7).`);
  }
  const numbers = parts.map(Number);
  if (parts.length === 1) {
    if (numbers[0] === 0) throw new InputError('Invalid --seeds 0: the count must be at least 1.');
    return Array.from({ length: numbers[0]! }, (_, i) => i);
  }
  if (new Set(numbers).size !== numbers.length) throw new InputError(`Invalid --seeds "${text}": a seed is listed twice.`);
  return numbers;
}

export function parsePositiveInt(flag: string, text: string, { allowZero = false } = {}): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new InputError(`Invalid ${flag} "${text}": expected a ${allowZero ? 'non-negative' : 'positive'} integer.`);
  }
  return value;
}

export function parsePositiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new InputError(`Invalid ${flag} "${text}": expected a positive number (e.g. 1e-3 or 0.0005).`);
  }
  return value;
}

/** A duration with units (`2h30m`, `45m`, `90s`), in seconds. */
export function parseDuration(flag: string, text: string): number {
  const match = /^\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$/.exec(text);
  const seconds = match ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0) : NaN;
  if (!match || !(seconds > 0)) throw new InputError(`Invalid ${flag} "${text}": expected a duration with units, e.g. 2h30m, 45m or 90s.`);
  return seconds;
}

/** A comma-separated list of ids (`--task sql,nli`). */
export function parseIdList(flag: string, text: string): string[] {
  const ids = text.split(',').map((part) => part.trim()).filter(Boolean);
  if (ids.length === 0) throw new InputError(`Invalid ${flag} "${text}": expected one or more comma-separated ids.`);
  return ids;
}

/**
 * Collects repeated `--set key=value` flags. Values stay strings: the method registry coerces
 * each by its field's type (numbers, true/false, comma-separated or JSON lists).
 */
export function parseSets(entries: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const match = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s.exec(entry);
    if (!match || match[2] === '') {
      throw new InputError(`Invalid --set "${entry}": expected key=value with a hyperparameter name and a value, e.g. --set lora_alpha=16 or --set target_modules=q,v.`);
    }
    if (match[1]! in out) throw new InputError(`Invalid --set: "${match[1]}" is set twice.`);
    out[match[1]!] = match[2]!;
  }
  return out;
}

/** Task knobs are numbers in every task; `--knob test=50` gives 50, not "50". */
export function numericKnobs(knobs: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(knobs)) {
    const number = Number(value);
    out[key] = value.trim() !== '' && Number.isFinite(number) ? number : value === 'true' ? true : value === 'false' ? false : value;
  }
  return out;
}

/** An ISO time, UTC unless it says otherwise ("2026-12-03T15:00" is 15:00 UTC). */
export function parseUtcTime(flag: string, text: string | undefined): string {
  const value = (text ?? '').trim();
  const utc = value.includes('T') && !/([zZ]|[+-]\d\d:?\d\d)$/.test(value) ? `${value}Z` : value;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(utc) : NaN;
  if (!Number.isFinite(ms)) throw new InputError(`Invalid ${flag} "${value}": give a date or time, e.g. 2026-12-03 or 2026-12-03T15:00 (UTC unless it says otherwise).`);
  return new Date(ms).toISOString();
}
