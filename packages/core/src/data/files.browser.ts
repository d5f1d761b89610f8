// The browser's twin of files.ts: the real-tier datasets are files on disk, which a page does not
// have; the synthetic tasks need none.
const MESSAGE = 'the real-tier datasets are read from a data directory, which exists only in Node: use the synthetic tasks (sql, nli, summarize, math) in the browser';

export function resolveDataDir(): never {
  throw new Error(MESSAGE);
}

export function dataFile(): never {
  throw new Error(MESSAGE);
}

export function readJsonl(): never {
  throw new Error(MESSAGE);
}

export function readCsv(): never {
  throw new Error(MESSAGE);
}
