// The studies, one folder each (see define.ts). Listed here so that bundlers (the site's build) see
// them; a test fails when a folder is missing from this list.
import type { Study } from './define.ts';
import rank from './rank/index.ts';
import complement from './complement/index.ts';
import grow from './grow/index.ts';
import layernorm from './layernorm/index.ts';
import stability from './stability/index.ts';
import pretraining from './pretraining/index.ts';
import batchSize from './batch-size/index.ts';
import targets from './targets/index.ts';
import lr from './lr/index.ts';

export * from './define.ts';

const ALL: readonly Study[] = [rank, complement, grow, layernorm, stability, pretraining, batchSize, targets, lr].sort((a, b) => a.order - b.order);

/** Every study, in report order. */
export function studies(): readonly Study[] {
  return ALL;
}

export function study(id: string): Study {
  const s = ALL.find((x) => x.id === id);
  if (!s) throw new Error(`unknown study '${id}'; studies are ${ALL.map((x) => x.id).join(', ')}`);
  return s;
}

/** Methods that some study claims for itself: they are left out of the general rank tables. */
export function studyMethods(): ReadonlySet<string> {
  return new Set(ALL.flatMap((s) => Object.values(s.methods ?? {})));
}
