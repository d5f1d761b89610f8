// Relative links: every page links to others relative to its own folder, so the built site works from any
// base path (and from file://).
// Pages that show one scope (protocol x model) exist once per scope: the default scope's at the plain
// URLs, each other scope's under scope/<protocol>/<model>/ (data.ts). A link from a page keeps its scope:
// to a per-scope page it stays under the same prefix, to a single page (methods, runs, ...) it goes to the
// one page, and to a method's page it jumps to that scope's section there.

/** Pages rendered once per scope (pages/scope/[protocol]/[model]/[page].astro). */
export const SCOPED_PAGES = ['index', 'questions', 'stability', 'cost', 'rank', 'analysis', 'compare'] as const;
export type ScopedPage = (typeof SCOPED_PAGES)[number];

/** The prefix from the current page back to the site root: "./" or "../" per folder level. */
export function rootPrefix(pathname: string): string {
  const segments = pathname.split('/').filter(Boolean);
  const depth = Math.max(0, segments.length - 1);
  return depth === 0 ? './' : '../'.repeat(depth);
}

/** The scope folder a page is in ('scope/fixed-300/naive/'), or '' for the default scope's and single pages. */
export function scopePrefix(pathname: string): string {
  const m = /^\/?(scope\/[^/]+\/[^/]+\/)/.exec(pathname);
  return m ? m[1]! : '';
}

const isScoped = (page: string) => (SCOPED_PAGES as readonly string[]).includes(page === '' ? 'index' : page);

/**
 * A link to a site page given by its path from the root without extension: "methods/lora" -> "../methods/lora.html".
 * From a page of a non-default scope, a per-scope page is that scope's.
 */
export function link(pathname: string, page: string): string {
  const target = page === '' || page === 'index' ? 'index.html' : `${page}.html`;
  return rootPrefix(pathname) + (isScoped(page) ? scopePrefix(pathname) : '') + target;
}

/** A link to `page` in the scope whose pages live under `prefix` ('' = the default scope). */
export function scopeLink(pathname: string, prefix: string, page: string): string {
  const target = page === '' || page === 'index' ? 'index.html' : `${page}.html`;
  return rootPrefix(pathname) + (isScoped(page) ? prefix : '') + target;
}

/** The page a path shows, as `link` names pages: '/scope/fixed-300/naive/rank.html' -> 'rank', '/' -> 'index'. */
export function pageOf(pathname: string): string {
  const rest = pathname.replace(/^\//, '').slice(scopePrefix(pathname).length).replace(/\.html$/, '');
  return rest === '' ? 'index' : rest.replace(/\/$/, '/index');
}

export const methodPage = (id: string) => `methods/${encodeURIComponent(id)}`;
export const runPage = (id: string) => `runs/${id}`;

/** A link to a method's page; from a page of a non-default scope, to that scope's section of it. */
export function methodLink(pathname: string, id: string): string {
  const prefix = scopePrefix(pathname);
  return link(pathname, methodPage(id)) + (prefix ? `#scope-${prefix.slice('scope/'.length, -1).replace(/\//g, '-')}` : '');
}
