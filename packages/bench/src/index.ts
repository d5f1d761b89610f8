// @peft-bench/bench: run specs, the runner, grids and the worker pool. The record schema, store,
// verification and aggregation (no TensorFlow.js) are in @peft-bench/results; re-exported here for callers.
export { runRecord, RECORD_SCHEMA_VERSION, type RunRecord, type RunStatus } from '@peft-bench/results/record/schema';
export { writeRecord, hasFinished, readFinished, readVerified, countsAsFinished, loadRecordFile, recordPath, removeStaleTempFiles } from '@peft-bench/results/record/store';
export { verifyRecord, verifyRecordText, specOfRecord, decodeScores, type Verified } from '@peft-bench/results/record/verify';
export { readRecords } from '@peft-bench/results/record/read';
export { canonicalJson, runIdOf, describeSpec, RUN_ID_HEX_CHARS, type RunSpec, type TrainingSettings } from './run/spec.ts';
export { codeVersion } from './run/code-version.ts';
export { trainingDefaults, defaultLr, TRAINING_DEFAULTS } from './run/defaults.ts';
export { MODELS, findModelDef } from './run/models.ts';
export { resolveRequests, InputError, type ResolvedRun } from './run/resolve.ts';
export { loadCatalog, configParamCount } from './run/registries.ts';
export { runOne, loadRunModel, type RunInput, type RunEnv, type RunCallbacks } from './run/runner.ts';
export { executeRun } from './run/execute.ts';
export { expandGrid, loadGrid, findGridFile, listGrids, type GridFile, type RunRequest } from './grid/grid.ts';
export { runPool, type PoolJob, type PoolSummary } from './grid/pool.ts';
export { estimateGrid, estimateRunSeconds } from './grid/estimate.ts';
export { finishedRuns, plannedBackend } from './grid/plan.ts';
