export * from './analysis/index.ts';
