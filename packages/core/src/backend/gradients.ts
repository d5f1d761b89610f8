// A BatchMatMul gradient that handles batch broadcasting. tfjs-core 4.22's own returns the
// un-reduced batched gradient (e.g. [B, K, N] for a [K, N] weight under a [B, M, K] input) and
// the engine rejects it. Each input's gradient is computed lazily, so a frozen weight costs nothing.
import * as tf from '@tensorflow/tfjs-core';

/** Sums a broadcast gradient back to the input's shape. */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(g.shape, shape)) return g;
  const axes = tf.backend_util.getReductionAxes(shape, g.shape);
  return (axes.length ? tf.sum(g, axes) : g).reshape(shape);
}

/** Gradient for the right operand when it is shared by every batch: one folded GEMM. */
function foldedRightGrad(a: tf.Tensor, dy: tf.Tensor, tA: boolean, tB: boolean, bShape: number[]): tf.Tensor | null {
  if (tA || a.rank < 3 || bShape.slice(0, -2).some((d) => d !== 1)) return null;
  const K = a.shape[a.rank - 1]!, N = dy.shape[dy.rank - 1]!;
  const a2 = a.reshape([-1, K]) as tf.Tensor2D, dy2 = dy.reshape([-1, N]) as tf.Tensor2D;
  return (tB ? tf.matMul(dy2, a2, true, false) : tf.matMul(a2, dy2, true, false)).reshape(bShape);
}

export function registerMatMulGradient(): void {
  // Replacing a registered gradient logs a warning in every process; this replacement is deliberate.
  const prod = tf.env().getBool('PROD');
  tf.env().set('PROD', true);
  try {
    registerIt();
  } finally {
    tf.env().set('PROD', prod);
  }
}

function registerIt(): void {
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const d = dy as tf.Tensor;
      const tA = Boolean(attrs.transposeA), tB = Boolean(attrs.transposeB);
      const mm = (x: tf.Tensor, y: tf.Tensor, p: boolean, q: boolean) => tf.matMul(x, y, p, q);
      return {
        a: () => {
          const g = !tA && !tB ? mm(d, b, false, true) : !tA && tB ? mm(d, b, false, false)
            : tA && !tB ? mm(b, d, false, true) : mm(b, d, true, true);
          return reduceTo(g, a.shape);
        },
        b: () => {
          const folded = foldedRightGrad(a, d, tA, tB, b.shape);
          if (folded) return folded;
          const g = !tA && !tB ? mm(a, d, true, false) : !tA && tB ? mm(d, a, true, false)
            : tA && !tB ? mm(a, d, false, false) : mm(d, a, true, true);
          return reduceTo(g, b.shape);
        },
      };
    },
  });
}
