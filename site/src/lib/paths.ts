// Relative links: every page links to others relative to its own folder, so the built site works from any
// base path (and from file://).

/** The prefix from the current page back to the site root: "./" or "../" per folder level. */
export function rootPrefix(pathname: string): string {
  const segments = pathname.split('/').filter(Boolean);
  const depth = Math.max(0, segments.length - 1);
  return depth === 0 ? './' : '../'.repeat(depth);
}

/** A link to a site page given by its path from the root without extension: "methods/lora" -> "../methods/lora.html". */
export function link(pathname: string, page: string): string {
  const target = page === '' || page === 'index' ? 'index.html' : `${page}.html`;
  return rootPrefix(pathname) + target;
}

export const methodPage = (id: string) => `methods/${encodeURIComponent(id)}`;
export const runPage = (id: string) => `runs/${id}`;
