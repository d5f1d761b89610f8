// Astro writes bundled assets as root-absolute URLs (/_astro/...). After the build, rewrite them in every
// HTML file to paths relative to that file, so the site works under any base path without configuration.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

async function htmlFiles(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await htmlFiles(path)));
    else if (entry.name.endsWith('.html')) out.push(path);
  }
  return out;
}

export default function relativeUrls() {
  return {
    name: 'peft-bench:relative-urls',
    hooks: {
      'astro:build:done': async ({ dir, logger }) => {
        const root = fileURLToPath(dir);
        let rewritten = 0;
        for (const file of await htmlFiles(root)) {
          const up = relative(dirname(file), root).split(sep).filter(Boolean).map(() => '..').join('/');
          const prefix = up ? `${up}/` : './';
          const html = await readFile(file, 'utf8');
          const next = html.replace(/(src|href)="\/_astro\//g, `$1="${prefix}_astro/`);
          if (next !== html) {
            await writeFile(file, next);
            rewritten += 1;
          }
        }
        logger.info(`relative asset URLs in ${rewritten} pages`);
      },
    },
  };
}
