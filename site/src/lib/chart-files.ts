// Chart specs outside the HTML: a spec larger than INLINE_LIMIT is written once (named by its content hash)
// to a staging folder that the build copies to dist/charts/, and the page only names it; the browser fetches
// it when the chart scrolls into view. Small specs stay inline, so those charts also draw from file://.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { rootPrefix } from './paths.ts';

export const INLINE_LIMIT = 4000;

export type SpecRef = { inline: string; src?: undefined } | { src: string; inline?: undefined };

export function specRef(spec: object, pathname: string): SpecRef {
  const json = JSON.stringify(spec);
  // Set by the build (integrations/relative-urls.mjs); in `astro dev` every spec stays inline.
  const dir = process.env.PEFT_CHART_STAGING;
  if (!dir || json.length <= INLINE_LIMIT) return { inline: json };
  const name = `${createHash('sha256').update(json).digest('hex').slice(0, 20)}.json`;
  const path = join(dir, name);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, json);
  }
  return { src: `${rootPrefix(pathname)}charts/${name}` };
}

/** Data tables up to this many characters stay in the page; larger ones are a file fetched when opened. */
export const TABLE_INLINE_LIMIT = 6000;

export type TableRef = { inline: string; src?: undefined } | { src: string; inline?: undefined };

/** A chart's data table: inline when small, else a standalone HTML file (readable on its own, also from disk). */
export function tableRef(html: string, title: string, pathname: string): TableRef {
  const dir = process.env.PEFT_CHART_STAGING;
  if (!dir || html.length <= TABLE_INLINE_LIMIT) return { inline: html };
  const doc = `<!doctype html><html lang="en"><meta charset="utf-8"><title>${title.replace(/</g, '&lt;')}: data</title>` +
    `<style>body{font-family:system-ui,sans-serif}table{border-collapse:collapse;font-size:.85rem}th,td{border-bottom:1px solid #dfe3ea;padding:.2rem .5rem;text-align:left}</style>` +
    `<body><h1 style="font-size:1.1rem">${title.replace(/</g, '&lt;')}</h1>${html}</body></html>`;
  const name = `${createHash('sha256').update(doc).digest('hex').slice(0, 20)}.html`;
  const path = join(dir, name);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, doc);
  }
  return { src: `${rootPrefix(pathname)}charts/${name}` };
}
