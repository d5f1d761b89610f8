// Browser tests of the built site. `pnpm test` first builds two sites (fixture records, and no records at all),
// then this config serves each with `astro preview` on a free port and runs tests/*.spec.ts in Debian's Chromium.
import { defineConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';

function freePort(): number {
  const script = "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  return Number(execFileSync(process.execPath, ['-e', script]).toString().trim());
}
// Workers re-evaluate this file; the environment carries the ports chosen by the main process.
process.env.PEFT_SITE_PORT ??= String(freePort());
process.env.PEFT_SITE_EMPTY_PORT ??= String(freePort());
const port = Number(process.env.PEFT_SITE_PORT);
const emptyPort = Number(process.env.PEFT_SITE_EMPTY_PORT);

const preview = (outDir: string, p: number) => ({
  command: `npx astro preview --host 127.0.0.1 --port ${p}`,
  url: `http://127.0.0.1:${p}/index.html`,
  env: { PEFT_BENCH_SITE_OUT: outDir, ASTRO_TELEMETRY_DISABLED: '1' },
  reuseExistingServer: false,
  timeout: 60_000,
  stdout: 'ignore' as const,
});

export default defineConfig({
  testDir: 'tests',
  timeout: 60_000,
  workers: 2,
  fullyParallel: true,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}/`,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    },
    viewport: { width: 1360, height: 900 },
  },
  webServer: [preview('./dist-test', port), preview('./dist-test-empty', emptyPort)],
});
