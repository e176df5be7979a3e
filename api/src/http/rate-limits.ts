import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { StartupError } from '../db/startup-error.js';
import { Problem } from './problem.js';

/**
 * The allowances that guard what anyone may call without a credential (or with a publishable key, which
 * anyone may read from a page): password guessing, the CPU that each password hash costs, bookings and
 * contact-form submissions.
 */
const LIMITS = {
  /** Sign-in attempts per client address. */
  signIn: { points: 60, duration: 60 },
  /** Wrong passwords per client address and email, forgiven by a successful sign-in. */
  signInFailures: { points: 10, duration: 15 * 60 },
  /** Agencies signed up per client address. */
  signUp: { points: 20, duration: 60 * 60 },
  /** Bookings a site's visitors make per client address and site (a slot list is no place for a script). */
  bookings: { points: 60, duration: 60 },
  /** Bookings per email address and site: confirmations and reminders are not to be sent to anyone at will. */
  bookingsPerEmail: { points: 10, duration: 60 * 60 },
  /** Contact-form submissions per client address and site: a person sends a form once or twice. */
  formSubmissions: { points: 10, duration: 10 * 60 },
  /** Contact-form submissions per site from everyone: a flood from many addresses must not fill a CRM. */
  formSubmissionsPerSite: { points: 600, duration: 10 * 60 },
} as const;

export type LimitName = keyof typeof LIMITS;

/** Other allowances than the defaults (tests, benches): `points` per `duration` seconds. */
export type LimitOverrides = Partial<Record<LimitName, { points: number; duration: number }>>;

export interface RateLimits {
  /** Uses one attempt; throws `429 rate_limited` once `key` has used its allowance up. */
  consume(limit: LimitName, key: string): Promise<void>;
  /** Throws `429 rate_limited` when `key` has nothing left, without using anything. */
  check(limit: LimitName, key: string): Promise<void>;
  /** Counts a failure against `key` without refusing the request that failed. */
  penalise(limit: LimitName, key: string): Promise<void>;
  forgive(limit: LimitName, key: string): Promise<void>;
  /** `ok`/`error` for Redis, or null when counting in memory. */
  health(): Promise<'ok' | 'error' | null>;
  close(): Promise<void>;
}

function rateLimited(msBeforeNext: number): Problem {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new Problem(429, 'rate_limited', 'Too many requests', `Too many attempts; retry in ${seconds} s.`, undefined, {
    'Retry-After': String(seconds),
  });
}

/**
 * Counters in Redis when REDIS_URL is set, so that every API process shares them; in memory otherwise.
 * Should Redis fail mid-flight, each process falls back to counting on its own rather than refusing
 * everyone. `namespace` keeps several platforms on one Redis apart.
 */
export async function createRateLimits(
  redisUrl: string | null,
  namespace = 'dramac',
  overrides: LimitOverrides = {},
): Promise<RateLimits> {
  const limits: Record<LimitName, { points: number; duration: number }> = { ...LIMITS, ...overrides };
  let redis: Redis | null = null;
  if (redisUrl) {
    redis = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    redis.on('error', () => {}); // reported through health(); the limiters fall back to memory meanwhile
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new StartupError(`Cannot reach Redis at REDIS_URL: ${(error as Error).message}`);
    }
  }
  const limiters = Object.fromEntries(
    Object.entries(limits).map(([name, limit]) => {
      const keyPrefix = `${namespace}:rl:${name}`;
      const memory = new RateLimiterMemory({ ...limit, keyPrefix });
      const limiter: RateLimiterAbstract = redis
        ? new RateLimiterRedis({ ...limit, keyPrefix, storeClient: redis, insuranceLimiter: memory })
        : memory;
      return [name, limiter];
    }),
  ) as Record<LimitName, RateLimiterAbstract>;

  return {
    async consume(limit, key) {
      try {
        await limiters[limit].consume(key);
      } catch (refusal) {
        if (refusal instanceof RateLimiterRes) throw rateLimited(refusal.msBeforeNext);
        throw refusal;
      }
    },
    async check(limit, key) {
      const used = await limiters[limit].get(key);
      if (used && used.consumedPoints >= limits[limit].points) throw rateLimited(used.msBeforeNext);
    },
    async penalise(limit, key) {
      await limiters[limit].penalty(key);
    },
    async forgive(limit, key) {
      await limiters[limit].delete(key);
    },
    async health() {
      if (!redis) return null;
      return (await redis.ping().catch(() => 'error')) === 'PONG' ? 'ok' : 'error';
    },
    async close() {
      await redis?.quit().catch(() => redis?.disconnect());
    },
  };
}
