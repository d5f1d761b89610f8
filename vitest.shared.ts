import { defineConfig } from 'vitest/config';

// The packages' shared vitest settings (each package's vitest.config.ts re-exports this). Tests read
// every committed record or train small models; under turbo the packages' suites share the machine's
// cores, so vitest's 5 s default is too tight for a loaded machine.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
