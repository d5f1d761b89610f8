// A grid file's runs, resolved against the registries at the current code version: what the
// commands that plan from a grid without running it (grid-speed's sample, choose-lr) start from. Each run
// also carries its ids under code versions checked equivalent (equivalentIds), as the grid's plan does.
import { codeVersion } from '../run/code-version.ts';
import { attachEquivalentIds } from './equivalence.ts';
import { loadCatalog } from '../run/registries.ts';
import { InputError, resolveRequests, type ResolvedRun } from '../run/resolve.ts';
import { expandGrid, findGridFile, loadGrid, type GridFile } from './grid.ts';

export async function resolveGridRuns(nameOrPath: string): Promise<{ grid: GridFile; catalog: Awaited<ReturnType<typeof loadCatalog>>; runs: ResolvedRun[] }> {
  let grid: GridFile;
  try {
    grid = loadGrid(findGridFile(nameOrPath));
  } catch (error) {
    throw new InputError((error as Error).message);
  }
  const catalog = await loadCatalog();
  const requests = expandGrid(grid, catalog.methods().map((method) => ({ id: method.id, rankParam: method.rankParam })), []);
  const runs = await resolveRequests(requests, catalog, { codeVersion, defaultModel: 'default' });
  await attachEquivalentIds(runs, (versionOf) => resolveRequests(requests, catalog, { codeVersion: versionOf, defaultModel: 'default' }));
  return { grid, catalog, runs };
}
