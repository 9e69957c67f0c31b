import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../src/paths.ts';

type Signal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

export interface CommandRunner {
  /** The first of SIGINT, SIGTERM, SIGHUP this process received, if any. */
  signal(): Signal | undefined;
  /**
   * Runs `command` with `env` added to this process's environment (node_modules/.bin first on PATH, as
   * under npm run), its output on this terminal, and resolves with its exit code (128 + the signal's
   * number when a signal ended it).
   */
  run(command: string, args: string[], env: Record<string, string>): Promise<number>;
}

/**
 * For a wrapper script that owns something to clean up (a server, a folder) around a command: from
 * this call on, SIGINT, SIGTERM and SIGHUP no longer end this process at once. They are passed to the
 * running command (Ctrl-C reaches it anyway: same process group), which is killed if it outlives
 * them by 15 s; the wrapper checks `signal()`, cleans up and exits with `exitCodeFor(signal)`.
 */
export function commandRunner(): CommandRunner {
  let received: Signal | undefined;
  let forward: ((signal: Signal) => void) | undefined;
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(name, () => {
      received ??= name;
      forward?.(name);
    });
  }
  return {
    signal: () => received,
    run(command, args, env) {
      const PATH = [path.join(projectRoot, 'node_modules', '.bin'), process.env.PATH].filter(Boolean).join(path.delimiter);
      const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, ...env, PATH } });
      let killTimer: NodeJS.Timeout | undefined;
      forward = (signal) => {
        child.kill(signal);
        killTimer ??= setTimeout(() => child.kill('SIGKILL'), 15_000);
      };
      if (received) forward(received);
      return new Promise((resolve) => {
        child.once('error', (err) => {
          console.error(`${command}: ${err.message}`);
          resolve(127);
        });
        child.once('exit', (code, signal) => {
          forward = undefined;
          clearTimeout(killTimer);
          resolve(code ?? exitCodeFor(signal ?? 'SIGKILL'));
        });
      });
    },
  };
}

/** The shell's exit code for a process ended by `signal`. */
export function exitCodeFor(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}
