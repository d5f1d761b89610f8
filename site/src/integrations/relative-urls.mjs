// Astro writes bundled assets as root-absolute URLs (/_astro/...). After the build, rewrite them in every
// HTML file to paths relative to that file, so the site works under any base path without configuration.
// Browsers refuse module scripts on file:// pages, so a bundled script that imports and exports nothing
// (the chart bundle is one self-contained chunk) is loaded as a deferred classic script in strict mode:
// same behaviour over http, and the charts also draw when dist/ is opened straight from disk.
import { readdir, readFile, writeFile, rm, cp, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
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
  let staging = null;
  return {
    name: 'peft-bench:relative-urls',
    hooks: {
      // Large chart specs are written by the pages into a staging folder (lib/chart-files.ts), emptied here
      // before a build and copied to dist/charts/ after it.
      'astro:config:setup': async ({ config, command }) => {
        if (command !== 'build') return;
        const out = fileURLToPath(config.outDir);
        staging = join(fileURLToPath(config.root), 'node_modules', '.chart-specs', out.split(sep).filter(Boolean).join('_'));
        await rm(staging, { recursive: true, force: true });
        process.env.PEFT_CHART_STAGING = staging;
      },
      'astro:build:done': async ({ dir, logger }) => {
        const root = fileURLToPath(dir);
        let rewritten = 0;
        const classic = new Set();
        const runtimes = new Set();
        if (staging && existsSync(staging)) {
          await mkdir(join(root, 'charts'), { recursive: true });
          await cp(staging, join(root, 'charts'), { recursive: true });
        }
        const assets = join(root, '_astro');
        for (const name of await readdir(assets).catch(() => [])) {
          if (!name.endsWith('.js')) continue;
          const path = join(assets, name);
          const code = await readFile(path, 'utf8');
          const selfContained = !/(^|[;})\n])\s*(import|export)\b|\bimport\s*\(|import\.meta/.test(code);
          if (selfContained) {
            await writeFile(path, `"use strict";${code}`);
            classic.add(name);
            // The chart runtime is loaded on demand by the chart loader (components/Chart.astro).
            if (code.includes('peftChartRuntime')) runtimes.add(name);
          }
        }
        for (const file of await htmlFiles(root)) {
          const up = relative(dirname(file), root).split(sep).filter(Boolean).map(() => '..').join('/');
          const prefix = up ? `${up}/` : './';
          const html = await readFile(file, 'utf8');
          const next = html
            .replace(/<script type="module" src="\/_astro\/([^"]+)"><\/script>/g, (tag, name) => (runtimes.has(name) ? `<template data-chart-runtime="${prefix}_astro/${name}"></template>` : tag))
            .replace(/<script type="module" src="\/_astro\/([^"]+)"/g, (tag, name) => (classic.has(name) ? `<script defer src="/_astro/${name}"` : tag))
            .replace(/(src|href)="\/_astro\//g, `$1="${prefix}_astro/`);
          if (next !== html) {
            await writeFile(file, next);
            rewritten += 1;
          }
        }
        logger.info(`relative asset URLs in ${rewritten} pages; classic scripts: ${[...classic].join(', ') || 'none'}`);
      },
    },
  };
}
