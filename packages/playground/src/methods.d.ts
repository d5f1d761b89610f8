// Made by the build (scripts/build.ts): the method folders the page offers, imported from
// packages/methods as they are.
declare module 'playground:methods' {
  import type { Method } from '@peft-bench/methods/types';
  export const methods: Method[];
}
