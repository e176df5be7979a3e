import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import type { RateLimits } from './rate-limits.js';

export interface Lifecycle {
  /** Set when shutdown begins: readiness fails so load balancers stop sending traffic. */
  draining: boolean;
}

export function healthRoutes(knex: Knex, limits: RateLimits, lifecycle: Lifecycle) {
  async function database(req: Request): Promise<'ok' | 'error'> {
    try {
      await knex.raw('SELECT 1');
      return 'ok';
    } catch (error) {
      req.log.warn({ err: error }, 'readiness: database unreachable');
      return 'error';
    }
  }
  return {
    getHealth(_req: Request, res: Response) {
      res.json({ status: 'ok' });
    },
    async getReadiness(req: Request, res: Response) {
      const [db, redis] = await Promise.all([database(req), limits.health()]);
      const checks = { database: db, ...(redis ? { redis } : {}) };
      // Redis carries shared counters only: without it each process counts on its own, so it does not
      // make the server unready; it is reported for operators.
      const status = lifecycle.draining ? 'draining' : db === 'ok' ? 'ready' : 'unavailable';
      res.status(status === 'ready' ? 200 : 503).json({ status, checks });
    },
  };
}
