export * from './stats/summary.ts';
export * from './stats/bootstrap.ts';
export * from './stats/selection.ts';
export { seededRandom } from './stats/rng.ts';
export { runIdOf, canonicalJson, RUN_ID_HEX_CHARS } from './record/run-id.ts';
export { runRecord, RECORD_SCHEMA_VERSION, type RunRecord, type RunStatus } from './record/schema.ts';
export { readRecords, parseRecord, type ReadResult, type RecordProblem } from './record/read.ts';
export { verifyRecord, verifyRecordText, specOfRecord, decodeScores, type Verified, type RecordSpec } from './record/verify.ts';
export { loadRecordFile, readVerified, writeRecord } from './record/store.ts';
