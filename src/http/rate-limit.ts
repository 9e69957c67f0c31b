import type { Context } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { tooManyRequests } from './errors.ts';

/**
 * Fixed-window limits per key (an IP, or an account name) using rate-limiter-flexible. The memory
 * store is per process; a deployment with several replicas multiplies the allowance by the replica
 * count, which is acceptable for abuse control (the store can be swapped for its PostgreSQL one).
 */
export class Limiter {
  private readonly limiter: RateLimiterMemory;
  constructor(points: number, durationSeconds: number) {
    this.limiter = new RateLimiterMemory({ points, duration: durationSeconds });
  }

  /** Counts one attempt against every key; throws 429 when any key is over its allowance. */
  async hit(...keys: string[]): Promise<void> {
    for (const key of keys) {
      try {
        await this.limiter.consume(key);
      } catch (res) {
        if (res instanceof RateLimiterRes) throw tooManyRequests(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
        throw res;
      }
    }
  }
}

export const clientIp = (ctx: Context): string => ctx.ip || 'unknown';
