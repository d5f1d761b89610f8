// The browser's twin of tfjs_extras.ts: a bundler resolves tfjs-core's ESM sources, so the gradient
// registrations and chained tensor methods are imported directly.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

export function buildTfjsExtras(): string {
  throw new Error('buildTfjsExtras runs in Node only');
}

export function ensureTfjsExtras(): void {}
