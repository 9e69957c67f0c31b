// The scale-out test (npm run test:scaleout): real processes behind HAProxy and PgBouncer, on its own.
export default {
  files: ['test/scaleout/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  concurrency: 1,
  timeout: '8m',
};
