// Terminal output: per-run progress bars (stderr), the summary table and JSON lines (stdout).
import cliProgress from 'cli-progress';
import type { RunProgress } from '../run/progress.ts';

export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toFixed(digits);
}

export function formatCount(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return String(value);
}

/** A plain aligned text table. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * A progress bar for one run: step, loss, tokens/s and ETA. On a non-terminal stderr it falls
 * back to a line at each phase change and every 25% of training.
 */
export class RunBar {
  private bar: cliProgress.SingleBar | null = null;
  private lastQuarter = -1;
  private lastPhase = '';
  constructor(private readonly label: string, private readonly quiet: boolean) {}

  update(progress: RunProgress): void {
    if (this.quiet) return;
    const tty = process.stderr.isTTY === true;
    if (progress.phase === 'train' && tty) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          {
            format: `  {label} |{bar}| {value}/{total} steps | loss {loss} | {tps} tok/s | ETA {eta_formatted}`,
            stream: process.stderr,
            hideCursor: true,
            etaBuffer: 20,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(progress.totalSteps, 0, { label: this.label, loss: '-', tps: '-' });
      }
      this.bar.update(progress.step, { loss: formatNumber(progress.loss, 3), tps: progress.tokensPerS ? Math.round(progress.tokensPerS) : '-' });
      return;
    }
    if (progress.phase !== 'train') this.stopBar();
    const note = progress.note ? `: ${progress.note}` : '';
    if (progress.phase === 'train') {
      const quarter = progress.totalSteps > 0 ? Math.floor((4 * progress.step) / progress.totalSteps) : 4;
      if (quarter !== this.lastQuarter) {
        this.lastQuarter = quarter;
        process.stderr.write(`  ${this.label}: step ${progress.step}/${progress.totalSteps} loss ${formatNumber(progress.loss, 3)} ${progress.tokensPerS ? Math.round(progress.tokensPerS) : '-'} tok/s\n`);
      }
    } else if (`${progress.phase}${note}` !== this.lastPhase) {
      this.lastPhase = `${progress.phase}${note}`;
      process.stderr.write(`  ${this.label}: ${progress.phase}${note}\n`);
    }
  }

  stop(): void {
    this.stopBar();
  }

  private stopBar(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
  }
}
