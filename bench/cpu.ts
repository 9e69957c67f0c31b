import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Where the machine's CPU went during a measurement, from /proc (Linux): the app process, PostgreSQL
 * (every `postgres` process), this bench process (autocannon's load runs in it), and everything else
 * (other people's work on a shared machine). On a 2-CPU box the last one is what makes two runs of
 * the same code differ, so the bench records it beside every figure. Elsewhere it reports nothing.
 */
const TICK_MS = 10; // USER_HZ = 100 on Linux

function ticksOf(pid: number | string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function postgresTicks(): number {
  let sum = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') sum += ticksOf(pid);
    } catch {
      // gone
    }
  }
  return sum;
}

function machineBusyTicks(): number {
  try {
    const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
    const [, user, nice, system, , , irq, softirq, steal] = (cpu ?? '').trim().split(/\s+/).map(Number);
    return (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  } catch {
    return 0;
  }
}

export interface CpuSplit {
  /** Milliseconds of CPU per request: the app, and PostgreSQL (absent when the app does not use it). */
  app_ms_per_request: number;
  postgres_ms_per_request?: number;
  /** Cores in use on average: the app, PostgreSQL, the bench (load generator), anything else. */
  cores: { app: number; postgres: number; bench: number; other: number };
}

export function startCpu(appPid: number) {
  const at = performance.now();
  const app = ticksOf(appPid);
  const pg = postgresTicks();
  const bench = process.cpuUsage();
  const busy = machineBusyTicks();
  return (requests: number, countPostgres = true): CpuSplit | undefined => {
    if (os.platform() !== 'linux') return undefined;
    const seconds = (performance.now() - at) / 1000;
    const appMs = (ticksOf(appPid) - app) * TICK_MS;
    const pgMs = (postgresTicks() - pg) * TICK_MS;
    const used = process.cpuUsage(bench);
    const benchMs = (used.user + used.system) / 1000;
    const busyMs = (machineBusyTicks() - busy) * TICK_MS;
    const cores = (ms: number) => Math.round((ms / 1000 / seconds) * 100) / 100;
    const per = (ms: number) => Math.round((ms / Math.max(1, requests)) * 1000) / 1000;
    return {
      app_ms_per_request: per(appMs),
      ...(countPostgres ? { postgres_ms_per_request: per(pgMs) } : {}),
      cores: {
        app: cores(appMs),
        postgres: cores(pgMs),
        bench: cores(benchMs),
        other: cores(Math.max(0, busyMs - appMs - pgMs - benchMs)),
      },
    };
  };
}

/** Cores busy with work other than `exceptPids` over `ms` milliseconds (other people's tests). */
export async function otherLoad(ms: number, exceptPids: number[] = []): Promise<number> {
  const busy = machineBusyTicks();
  const mine = exceptPids.map(ticksOf);
  const self = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(self);
  const mineMs = exceptPids.map(ticksOf).reduce((sum, t, i) => sum + (t - (mine[i] ?? 0)) * TICK_MS, 0);
  const otherMs = (machineBusyTicks() - busy) * TICK_MS - mineMs - (used.user + used.system) / 1000;
  return Math.max(0, Math.round((otherMs / ms) * 100) / 100);
}
