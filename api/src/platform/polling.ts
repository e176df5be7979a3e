import type { Logger } from 'pino';

export interface Polling {
  /** Runs a round now (or right after the one under way). */
  nudge(): void;
  /** Ends the loop once the round under way is over. */
  stop(): Promise<void>;
}

/**
 * The loop of a durable worker: a round again at once while the last one found more to do or a nudge came
 * meanwhile, otherwise after `pollMs` (for work other processes committed) or at the next nudge. A failed
 * round is logged and the loop goes on.
 */
export function startPolling(options: {
  round: () => Promise<boolean>;
  pollMs: number;
  logger: Logger;
  /** For the log line of a failed round: `webhook worker`. */
  name: string;
}): Polling {
  let stopped = false;
  let pending = false;
  let wake: (() => void) | null = null;
  const loop = (async () => {
    // The first round once the caller has finished setting up (its round may use what it defines after this).
    await Promise.resolve();
    while (!stopped) {
      pending = false;
      let more = false;
      try {
        more = await options.round();
      } catch (error) {
        if (stopped) break;
        options.logger.error({ err: error }, `${options.name} round failed`);
      }
      if (stopped) break;
      if (more || pending) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollMs);
        timer.unref();
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  })();
  return {
    nudge() {
      pending = true;
      wake?.();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
