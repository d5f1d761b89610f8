// tfjs-core's Node entry (dist/tf-core.node.js) leaves out two things the umbrella @tensorflow/tfjs
// package normally adds: the chained tensor methods (x.add(y), x.reshape(...)) and the gradient
// registrations. Both are needed here (ops.ts uses chained methods; training needs gradients), so
// this module loads them from tfjs-core's ES module files once. Those files use extensionless
// relative imports inside a package without "type": "module", which Node cannot load alone: a
// small resolve/load hook, scoped to tfjs-core's dist folder, adds '.js' and marks them as ESM.
// They register into tfjs's global engine, kernel and gradient registries and patch the global
// Tensor class, so they extend the Node entry's tensors in place. Under Vite (vitest) the ES module
// entry is used directly and the hook is not needed.
import * as tf from '@tensorflow/tfjs-core';
import { register } from 'node:module';

const HOOKS = `
const DIST = '/@tensorflow/tfjs-core/dist/';
export async function resolve(specifier, context, next) {
  if (context.parentURL && context.parentURL.includes(DIST) && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    try { return await next(specifier + '.js', context); } catch { return next(specifier + '/index.js', context); }
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (url.includes(DIST) && url.endsWith('.js') && !/tf-core[.][a-z0-9.]*js$/.test(url)) {
    return next(url, { ...context, format: 'module' });
  }
  return next(url, context);
}`;

function chainedOpsPresent(): boolean {
  return typeof (tf.Tensor.prototype as unknown as { reshape?: unknown }).reshape === 'function';
}

function gradientsPresent(): boolean {
  return tf.getGradient('Add') != null;
}

if (!chainedOpsPresent() || !gradientsPresent()) {
  const viaVite = typeof (import.meta as { env?: unknown }).env === 'object';
  if (!viaVite) register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, import.meta.url);
  if (!chainedOpsPresent()) await import('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js');
  if (!gradientsPresent()) await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  if (!chainedOpsPresent() || !gradientsPresent()) {
    throw new Error('tfjs-core: could not register chained tensor ops and gradients (check that @tensorflow/tfjs-core 4.22.0 is installed)');
  }
}

export const tfjsComplete = true;
