export * from './stats/summary.ts';
export * from './stats/bootstrap.ts';
export * from './stats/selection.ts';
export { seededRandom } from './stats/rng.ts';
export * from './stats/discriminability.ts';
