export * from './rouge.ts';
export * from './gsm8k.ts';
export * from './sql.ts';
export * from './match.ts';
