// @peft-bench/bench: run specs and ids, the runner, the results store, grids and the worker pool.
// Aggregation (pure, no TensorFlow.js) is at '@peft-bench/bench/aggregate/index'.
export { runRecord, RECORD_SCHEMA_VERSION, type RunRecord, type RunStatus } from './record/schema.ts';
export { writeRecord, hasFinished, readFinished, readVerified, countsAsFinished, loadRecordFile, recordPath, removeStaleTempFiles } from './record/store.ts';
export { verifyRecord, verifyRecordText, specOfRecord, decodeScores, type Verified } from './record/verify.ts';
export { readRecords } from './record/read.ts';
export { canonicalJson, runIdOf, describeSpec, RUN_ID_HEX_CHARS, type RunSpec, type TrainingSettings } from './run/spec.ts';
export { codeVersion } from './run/code-version.ts';
export { trainingDefaults, defaultLr, TRAINING_DEFAULTS, METHOD_LR_SCALE } from './run/defaults.ts';
export { MODELS, findModelDef } from './run/models.ts';
export { resolveRequests, InputError, type ResolvedRun } from './run/resolve.ts';
export { loadCatalog, configParamCount } from './run/registries.ts';
export { runOne, loadRunModel, type RunInput, type RunEnv, type RunCallbacks } from './run/runner.ts';
export { executeRun } from './run/execute.ts';
export { expandGrid, loadGrid, findGridFile, listGrids, type GridFile, type RunRequest } from './grid/grid.ts';
export { runPool, type PoolJob, type PoolSummary } from './grid/pool.ts';
export { estimateGrid, estimateRunSeconds } from './grid/estimate.ts';
export { finishedRuns, plannedBackend } from './grid/plan.ts';
