// The worker runs the bench's own code: its bundle is made of packages/core and packages/methods as
// they are (the model, the method folders, the task generators, the metrics, the trainer), with only
// the browser twins of the Node-only modules swapped in, and no Node built-in left.
import * as esbuild from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLAYGROUND_METHODS, workerBuild } from '../scripts/worker-build.ts';

const REPO = resolve(import.meta.dirname, '../../..');

describe('worker bundle', () => {
  it('bundles the packages\' own modules, with browser twins for host I/O and no Node built-ins', { timeout: 120_000 }, async () => {
    const result = await esbuild.build({ ...workerBuild(mkdtempSync(join(tmpdir(), 'playground-bundle-'))), write: false, minify: false });
    const inputs = Object.keys(result.metafile.inputs).map((p) => relative(REPO, resolve(process.cwd(), p)));
    for (const file of [
      'packages/core/src/model/model.ts',
      'packages/core/src/train/trainer.ts',
      'packages/core/src/decode/predict.ts',
      'packages/core/src/tasks/sql.ts',
      'packages/core/src/tasks/nli.ts',
      'packages/core/src/tasks/summarize.ts',
      'packages/core/src/tasks/math.ts',
      'packages/core/src/metrics/sql.ts',
      'packages/core/src/metrics/rouge.ts',
      'packages/core/src/backend/kernels.ts',
      'packages/methods/src/hf/adapter.ts',
      ...PLAYGROUND_METHODS.map((id) => `packages/methods/${id}/index.ts`),
      'packages/core/src/io/host.browser.ts',
      'packages/core/src/backend/tfjs_extras.browser.ts',
    ]) {
      expect(inputs, file).toContain(file);
    }
    // The Node versions are swapped out, and nothing imports a Node built-in.
    for (const file of ['packages/core/src/io/host.ts', 'packages/core/src/backend/tfjs_extras.ts', 'packages/core/src/data/files.ts', 'packages/methods/src/registry.ts']) {
      expect(inputs, file).not.toContain(file);
    }
    const builtins = Object.values(result.metafile.inputs).flatMap((input) => input.imports.filter((i) => i.path.startsWith('node:') || i.external).map((i) => i.path));
    expect(builtins.filter((p) => p.startsWith('node:'))).toEqual([]);
    // The only source of packages/playground itself in the bundle is the worker's driver: no model, method or task code of its own.
    const own = inputs.filter((p) => p.startsWith('packages/playground/src/'));
    expect(own.sort()).toEqual(['packages/playground/src/worker.ts']);
  });
});
