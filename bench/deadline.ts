/**
 * A benchmark never hangs nor leaves servers behind: past `deadlineMs`, or on Ctrl-C, it cleans up (once)
 * and exits non-zero. Returns what disarms the deadline once the benchmark is done.
 */
export function exitCleanlyOnDeadlineOrSignal(deadlineMs: number, cleanUp: () => Promise<void>): () => void {
  const deadline = setTimeout(() => {
    console.error(`bench: still running after ${deadlineMs / 1000} s; giving up`);
    process.exitCode = 1;
    void cleanUp().finally(() => process.exit(1));
  }, deadlineMs);
  deadline.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.exitCode = 130;
      void cleanUp().finally(() => process.exit(130));
    });
  }
  return () => clearTimeout(deadline);
}
