// Links that come from data (a method's paper URL) are rendered as links only when they are http(s):
// anything else (javascript:, data:, relative paths) is shown as text.
export function httpUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}
