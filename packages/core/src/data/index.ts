export * from './files.ts';
export * from './loaders.ts';
export * from './batch.ts';
export { mergeCreateTables } from './sql-context.ts';
