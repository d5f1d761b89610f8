// Number formatting shared by tables and chart tooltips.

export function score(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

export function meanStd(mean: number | null, std: number | null, n: number): string {
  if (mean === null) return '—';
  return `${score(mean)} ± ${score(std)}`;
}

export function count(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)}B`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return String(Math.round(v));
}

export function bytes(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let x = v;
  let u = 0;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u += 1;
  }
  return `${u === 0 ? x : x.toFixed(1)} ${units[u]}`;
}

export function seconds(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (v < 120) return `${v.toFixed(1)} s`;
  if (v < 7200) return `${(v / 60).toFixed(1)} min`;
  return `${(v / 3600).toFixed(1)} h`;
}

export function percent(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(digits)}%`;
}

/** A learning rate in the fewest digits that state it (up to 4): 5e-3, 1.25e-3, 3.125e-4, not 1e-3 for 1.25e-3. */
export function lr(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : Number(v.toPrecision(4)).toExponential();
}
