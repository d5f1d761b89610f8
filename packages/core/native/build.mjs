// Best-effort build of the native BLAS addon. Never fails the install: without the addon the
// pure-wasm path runs with the same numerics.
console.log('[peft-bench] native addon: not built yet');
