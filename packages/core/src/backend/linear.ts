// linear(x, W, b) = x·W + b for x [..., in], W [in, out], b [out] | null: one GEMM with the bias
// fused on the accelerated wasm backend, and gradients computed only for the inputs that need
// them (tf.fused.matMul's gradient always computes dW too, wasting a third of a frozen layer's
// backward). Elsewhere it is plain matMul + add.
import * as tf from '@tensorflow/tfjs-core';

const KERNEL = 'PeftLinear';
let gradientRegistered = false;

function registerGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: KERNEL,
    inputsToSave: ['x', 'w'],
    gradFunc: (dy, saved) => {
      const [x, w] = saved as [tf.Tensor, tf.Tensor2D];
      const d = dy as tf.Tensor;
      const K = w.shape[0], N = w.shape[1];
      const dy2 = () => d.reshape([-1, N]) as tf.Tensor2D;
      return {
        x: () => tf.matMul(dy2(), w, false, true).reshape(x.shape),
        w: () => tf.matMul(x.reshape([-1, K]) as tf.Tensor2D, dy2(), true, false),
        bias: () => tf.sum(dy2(), 0),
      };
    },
  });
}

/** Whether the fused linear kernel is installed on the active backend. */
function accelerated(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(KERNEL, 'wasm') != null;
}

export function linear(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null = null): tf.Tensor {
  if (w.rank !== 2 || x.shape[x.rank - 1] !== w.shape[0]) {
    throw new Error(`linear: x [${x.shape}] and W [${w.shape}] do not fit: need x [..., ${w.shape[0]}] and W [in, out]`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== w.shape[1])) {
    throw new Error(`linear: bias [${bias.shape}] must be [${w.shape[1]}]`);
  }
  if (!accelerated() || x.dtype !== 'float32' || w.dtype !== 'float32') {
    return tf.tidy(() => {
      const y = tf.matMul(x.reshape([-1, w.shape[0]!]) as tf.Tensor2D, w as tf.Tensor2D);
      return (bias ? y.add(bias) : y).reshape([...x.shape.slice(0, -1), w.shape[1]!]);
    });
  }
  registerGradient();
  const inputs = (bias ? { x, w, bias } : { x, w }) as unknown as tf.NamedTensorMap;
  return tf.engine().runKernel(KERNEL, inputs, {}) as tf.Tensor;
}
