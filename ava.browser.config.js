// Browser journeys run on their own: one Chromium at a time, after the HTTP suites.
export default {
  files: ['test/browser/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  concurrency: 1,
  timeout: '120s',
};
