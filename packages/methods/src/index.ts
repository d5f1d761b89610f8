// @peft-bench/methods: the method plug-in API, the registry built from the method folders, the HF
// PEFT adapter format, and post-hoc tools for trained low-rank updates.
export * from './types.ts';
export { defineMethod } from './define.ts';
export { loadRegistry, getMethod, listMethods, withRank, methodInfo, methodFolders, Registry, METHODS_ROOT } from './registry.ts';
export type { MethodInfo, HyperparameterInfo } from './registry.ts';
export { parseConfig, describeAllowed, fieldSchemas } from './validate.ts';
export { resolveLinears, resolveNorms } from './targets.ts';
export { svdSlice, readLoraDeltas, attachmentDeltas, factorComponents, compareLowRank, type DenseDelta, type SliceFactors } from './lowrank-io.ts';
export { lowRankAnalysis, normAnalysis } from './analysis.ts';
export { deltaAttachment, type DeltaModule } from './delta.ts';
export {
  readAdapter, readAdapterConfig, writeAdapter, readHostTensors, writeHostTensors, sortedJson, packLowRank, unpackLowRank,
  CONFIG_FILE, WEIGHTS_FILE, PREFIX, type HostTensor,
} from './hf/adapter.ts';
export { hfLinear, hfLinearUnfused, hfNorm, hfTargetModules } from './hf/names.ts';
export { scaffoldMethod } from './scaffold.ts';
export { writeExampleLoraAdapter } from './examples.ts';
