import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/paths.ts';
import { freePort } from './pg-server.ts';

/** Resident memory of a process and its peak, in kB, from /proc (Linux); undefined elsewhere or once it is gone. */
export function memoryOf(pid: number): { rssKb: number; peakKb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssKb: kb('VmRSS'), peakKb: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * The real server process, as `npm start` runs it (`node --import tsx src/main.ts`), for tests that
 * kill it (test/crash.test.ts) or measure it from outside (scripts/soak.ts).
 */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resident memory of the process in bytes (Linux /proc), or undefined elsewhere. */
  rss(): number | undefined;
}

export async function startServerProcess(env: Record<string, string>, port?: number): Promise<ServerProcess> {
  const listen = port ?? (await freePort());
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    SECRET_KEY: 'server-process-secret-0123456789abcdef',
    HOST: '127.0.0.1',
    PORT: String(listen),
    LOG_LEVEL: 'warn',
    WORKER_IN_PROCESS: 'false',
    ...env,
  };
  delete childEnv.TEST_DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'src/main.ts')], {
    cwd: projectRoot,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + String(chunk)).slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': by then the child's stdout and stderr are read to the end.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const url = `http://127.0.0.1:${listen}`;
  const server: ServerProcess = {
    child,
    port: listen,
    url,
    output: () => output,
    exited,
    rss() {
      const memory = child.pid === undefined ? undefined : memoryOf(child.pid);
      return memory && memory.rssKb * 1024;
    },
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/api/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return server;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not become healthy:\n${output}`);
}
