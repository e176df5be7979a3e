import type { Request, Response } from 'express';
import type { Knex } from 'knex';

export interface Lifecycle {
  /** Set when shutdown begins: readiness fails so load balancers stop sending traffic. */
  draining: boolean;
}

export function healthRoutes(knex: Knex, lifecycle: Lifecycle) {
  return {
    getHealth(_req: Request, res: Response) {
      res.json({ status: 'ok' });
    },
    async getReadiness(req: Request, res: Response) {
      if (lifecycle.draining) {
        res.status(503).json({ status: 'draining', checks: { database: 'ok' } });
        return;
      }
      try {
        await knex.raw('SELECT 1');
        res.json({ status: 'ready', checks: { database: 'ok' } });
      } catch (error) {
        req.log.warn({ err: error }, 'readiness: database unreachable');
        res.status(503).json({ status: 'unavailable', checks: { database: 'error' } });
      }
    },
  };
}
