// GPT-2's byte-level alphabet and pre-tokenizer, shared by the BPE trainer so that training sees
// exactly the pieces the Hugging Face ByteLevel pre-tokenizer produces at encode time.

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
})();

/** GPT-2's pre-tokenization pattern (the ByteLevel pre-tokenizer's default with use_regex). */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const utf8 = new TextEncoder();

/** Split text into GPT-2 pieces, each written in the byte-level alphabet. */
export function byteLevelPieces(text: string): string[] {
  const pieces: string[] = [];
  for (const match of text.matchAll(GPT2_PATTERN)) {
    let mapped = '';
    for (const byte of utf8.encode(match[0])) mapped += BYTE_TO_CHAR[byte];
    pieces.push(mapped);
  }
  return pieces;
}
