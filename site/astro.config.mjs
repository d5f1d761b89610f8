// Static leaderboard. Every link and asset URL is relative (see integrations/relative-urls.mjs), so the built
// dist/ works from any folder: a GitHub Pages project subpath, `astro preview`, or opened via file://.
import { defineConfig } from 'astro/config';
import relativeUrls from './src/integrations/relative-urls.mjs';
import playground from './src/integrations/playground.mjs';

export default defineConfig({
  output: 'static',
  // Tests build the fixture and empty sites side by side.
  outDir: process.env.PEFT_BENCH_SITE_OUT ?? './dist',
  // page.astro -> page.html: plain files, so relative links need no server-side index resolution.
  build: { format: 'file', inlineStylesheets: 'always' },
  trailingSlash: 'ignore',
  integrations: [relativeUrls(), playground()],
  server: { port: Number(process.env.PEFT_BENCH_SITE_PORT ?? 4321) },
  preview: { port: Number(process.env.PEFT_BENCH_SITE_PORT ?? 4321) },
  vite: {
    // The data loader imports TypeScript from the workspace package packages/bench.
    server: { fs: { allow: ['..'] } },
    build: {
      chunkSizeWarningLimit: 2500,
      rollupOptions: {
        // zod ships comments Rollup cannot place; harmless and noisy.
        onwarn(warning, warn) {
          if (warning.code === 'INVALID_ANNOTATION' || /annotation that Rollup cannot interpret/.test(warning.message)) return;
          warn(warning);
        },
      },
    },
  },
});
