export type { Tokenizer } from './types.ts';
export { ByteTokenizer, BYTE_TOKENIZER_TYPE } from './byte.ts';
export { HfTokenizer, tokenizerFromJSON } from './hf.ts';
export { loadTokenizer, saveTokenizer } from './file.ts';
export { trainBpe, learnBpe, byteLevelBpeJson, BPE_EOS, BPE_PAD, type BpeModel, type TrainBpeOptions } from './bpe.ts';
export { BYTE_TO_CHAR, byteLevelPieces } from './bytelevel.ts';
