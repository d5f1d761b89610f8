// Serves the Playground's static files (packages/playground/dist: the training worker, wasm binaries,
// the default model) under playground/ of the site: copied into the build, served by `astro dev`.
// Only the Playground page loads them. turbo builds the playground before the site; a site built on
// its own (pnpm --filter @peft-bench/site build) builds it first when dist/ is missing.
import { execFileSync } from 'node:child_process';
import { cp, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../../packages/playground/dist', import.meta.url));
const TYPES = { '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };

function ensureBuilt(logger) {
  if (existsSync(join(DIST, 'worker.js')) && existsSync(join(DIST, 'manifest.json'))) return;
  logger.info('building the playground bundle (packages/playground/dist is missing)');
  execFileSync('pnpm', ['--filter', '@peft-bench/playground', 'build'], { stdio: 'inherit' });
}

export default function playground() {
  return {
    name: 'peft-bench:playground',
    hooks: {
      'astro:config:setup': ({ logger }) => ensureBuilt(logger),
      'astro:server:setup': ({ server }) => {
        server.middlewares.use(async (req, res, next) => {
          const match = /^\/playground\/([^?#]+)/.exec(req.url ?? '');
          const file = match ? normalize(join(DIST, decodeURIComponent(match[1]))) : null;
          if (!file || !file.startsWith(DIST) || !existsSync(file)) return next();
          res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
          res.end(await readFile(file));
        });
      },
      'astro:build:done': async ({ dir, logger }) => {
        await cp(DIST, join(fileURLToPath(dir), 'playground'), { recursive: true });
        logger.info('playground files copied to playground/');
      },
    },
  };
}
