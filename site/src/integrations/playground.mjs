// Serves the Playground's static files (packages/playground/dist: the training worker, wasm binaries,
// the default model) under playground/ of the built site. Only the Playground page loads them.
import { cp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../../packages/playground/dist', import.meta.url));

export default function playground() {
  return {
    name: 'peft-bench:playground',
    hooks: {
      'astro:build:done': async ({ dir, logger }) => {
        if (!existsSync(join(DIST, 'worker.js'))) {
          throw new Error(`${DIST} has no worker.js: build the Playground first (pnpm --filter @peft-bench/playground build)`);
        }
        await cp(DIST, join(fileURLToPath(dir), 'playground'), { recursive: true });
        logger.info('playground files copied to playground/');
      },
    },
  };
}
