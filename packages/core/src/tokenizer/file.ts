// tokenizer.json files on disk (Node): the tokenizers themselves are in hf.ts and byte.ts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tokenizerFromJSON } from './hf.ts';
import type { Tokenizer } from './types.ts';

/** Load a tokenizer.json (and tokenizer_config.json beside it, when present). */
export function loadTokenizer(file: string): Tokenizer {
  if (!existsSync(file)) throw new Error(`Tokenizer file not found: ${file} (expected a Hugging Face tokenizer.json)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const configFile = path.join(path.dirname(file), 'tokenizer_config.json');
  const config = existsSync(configFile) ? (JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>) : {};
  return tokenizerFromJSON(json, config, file);
}

export function saveTokenizer(tokenizer: Tokenizer, file: string): void {
  writeFileSync(file, JSON.stringify(tokenizer.toJSON()));
}
