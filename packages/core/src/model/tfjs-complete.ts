// tfjs-core's Node entry leaves out the chained tensor methods (x.add(y)) and the gradient
// registrations; the backend layer bundles and registers them (backend/tfjs_extras.ts). The model
// and trainer import this module so that they work before, or without, initBackend().
import { ensureTfjsExtras } from '../backend/tfjs_extras.ts';
// Types only (erased at run time): the chained methods' declarations on tf.Tensor. They augment
// tfjs-core's Tensor for the whole program, so every package that reaches core's model (methods
// through their Model type, bench through the index) type-checks x.add(y) without its own copy.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';

ensureTfjsExtras();

export const tfjsComplete = true;
