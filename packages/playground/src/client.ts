// The page side of the Playground: checks what the browser can do, starts the training worker
// (dist/worker.js, served beside the page), and relays its messages. No model code runs here.
import type { BoardConfig, BrowserBackend, Manifest, PageMessage, TrainRequest, WorkerMessage } from './protocol.ts';

export type { BoardConfig, BrowserBackend, Manifest, ManifestMethod, ManifestTask, Sample, TrainRequest, WorkerMessage } from './protocol.ts';

export interface Capabilities {
  workers: boolean;
  /** WebAssembly with 128-bit SIMD (the wasm backend's fast build). */
  wasmSimd: boolean;
  webgl: boolean;
  webgpu: boolean;
  /** Why training cannot run here; empty when it can. */
  problems: string[];
}

// The smallest module using a SIMD instruction (i8x16.splat): validates only where SIMD is supported.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

export function detectCapabilities(): Capabilities {
  const workers = typeof Worker !== 'undefined';
  const wasm = typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function';
  const wasmSimd = wasm && WebAssembly.validate(SIMD_PROBE);
  let webgl = false;
  try {
    webgl = document.createElement('canvas').getContext('webgl2') != null;
  } catch {
    webgl = false;
  }
  const webgpu = typeof navigator !== 'undefined' && 'gpu' in navigator;
  const problems: string[] = [];
  if (!workers) problems.push('this browser has no Web Workers, which training needs to keep the page responsive');
  if (!wasm) problems.push('this browser has no WebAssembly');
  else if (!wasmSimd) problems.push('this browser\'s WebAssembly has no SIMD (128-bit vector instructions), which the wasm backend needs');
  if (location.protocol === 'file:') problems.push('pages opened from disk (file://) cannot start workers or fetch the model: serve the site (pnpm site:preview)');
  return { workers, wasmSimd, webgl, webgpu, problems };
}

/** The backends to offer: wasm always, WebGL / WebGPU where the browser has them. */
export function availableBackends(caps: Capabilities): BrowserBackend[] {
  return ['wasm', ...(caps.webgl ? (['webgl'] as const) : []), ...(caps.webgpu ? (['webgpu'] as const) : [])];
}

export async function loadManifest(base: string): Promise<Manifest> {
  const res = await fetch(new URL('manifest.json', base));
  if (!res.ok) throw new Error(`manifest.json: HTTP ${res.status}`);
  return (await res.json()) as Manifest;
}

/** One worker for the page's lifetime: it keeps the model loaded between runs. */
export class PlaygroundClient {
  private readonly worker: Worker;

  constructor(base: string, onMessage: (message: WorkerMessage) => void) {
    this.worker = new Worker(new URL('worker.js', base), { type: 'module' });
    this.worker.onmessage = (event: MessageEvent<WorkerMessage>) => onMessage(event.data);
    this.worker.onerror = (event) => onMessage({ type: 'error', message: event.message || 'the training worker failed to start' });
  }

  train(request: TrainRequest): void {
    this.send({ type: 'train', request });
  }

  /** Training ends after the step in progress; the samples and score are of the model as it is then. */
  stop(): void {
    this.send({ type: 'stop' });
  }

  private send(message: PageMessage): void {
    this.worker.postMessage(message);
  }
}

/** ETA from the steps done so far: seconds left at the mean pace. */
export function etaSeconds(step: number, totalSteps: number, elapsedS: number): number {
  return step > 0 ? ((totalSteps - step) * elapsedS) / step : Number.NaN;
}

/** A downloadable Blob URL for each adapter file. */
export function adapterDownloads(adapter: Record<string, Uint8Array>): { name: string; url: string; bytes: number }[] {
  return Object.entries(adapter)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, bytes]) => ({
      name,
      url: URL.createObjectURL(new Blob([bytes as BlobPart], { type: name.endsWith('.json') ? 'application/json' : 'application/octet-stream' })),
      bytes: bytes.length,
    }));
}

/**
 * The leaderboard's configuration for a browser run: same method, task, rank, method hyperparameters
 * and base model (id and weights); `exact` when the learning rate matches too, else the same
 * configuration at another learning rate. Null when the leaderboard has none (e.g. another model).
 */
export function findLeaderboardCell(
  board: readonly BoardConfig[],
  manifest: Pick<Manifest, 'model'>,
  request: Pick<TrainRequest, 'method' | 'task' | 'rank' | 'lr'>,
  config: Record<string, unknown>,
): { cell: BoardConfig; exact: boolean } | null {
  const prefix = `${manifest.model.id}@`;
  const sameModel = (g: BoardConfig) => g.model.startsWith(prefix) && manifest.model.hash.startsWith(g.model.slice(prefix.length));
  const sameConfig = (g: BoardConfig) => Object.keys(g.config).every((k) => JSON.stringify(g.config[k]) === JSON.stringify(config[k]));
  const candidates = board.filter((g) => g.method === request.method && g.task === request.task && g.rank === request.rank && g.mean !== null && sameModel(g) && sameConfig(g));
  const exact = candidates.find((g) => Math.abs(g.lr - request.lr) <= 1e-9 * request.lr);
  if (exact) return { cell: exact, exact: true };
  const nearest = [...candidates].sort((a, b) => Math.abs(Math.log(a.lr / request.lr)) - Math.abs(Math.log(b.lr / request.lr)))[0];
  return nearest ? { cell: nearest, exact: false } : null;
}
