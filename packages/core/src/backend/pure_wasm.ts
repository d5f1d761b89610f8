// The pure-wasm kernel set (no native addon): shared by Node's `wasm` backend and the browser.
import { setOps } from '../ops.ts';
import { fusedOps, installFusedKernels } from './fused.ts';
import { jsMath } from './js_math.ts';
import { installWasmKernels } from './kernels.ts';

/** Installs our kernels over tfjs's wasm backend (which must be registered and set) and selects the fused ops. */
export function usePureWasmKernels(): void {
  installWasmKernels('js', null);
  installFusedKernels(jsMath);
  setOps('fused-js', fusedOps);
}
