// Aggregation of run records into leaderboard data. Pure TS: importing this never loads TensorFlow.js.
export * from './aggregate.ts';
export * from './metrics.ts';
export * from './stats.ts';
export * from './analysis.ts';
export * from './subspace.ts';
export * from './export.ts';
export { readRecords, parseRecord, type ReadResult, type RecordProblem } from '../record/read.ts';
export * from './report.ts';
export * from './leaderboard.ts';
export * from './lr-choice.ts';
export * from './separation.ts';
