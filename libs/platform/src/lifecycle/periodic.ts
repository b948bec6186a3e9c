/** How often running work (an ingestion run, a model build) says it is alive. */
export const HEARTBEAT_MS = 5000;

/**
 * The stale threshold used while processes run side by side: never under three heartbeats, so a
 * live run is never taken for a dead one, whatever `WEIR_RUN_STALE_SECONDS` says.
 */
export const liveStaleMs = (staleMs: number): number => Math.max(staleMs, 3 * HEARTBEAT_MS);

/** A background task started by {@link periodic}. */
export interface PeriodicTask {
  /** Stops it and waits for a pass under way. */
  stop(): Promise<void>;
}

/**
 * Runs `run` in the background: first `firstAfterMs` after the start (default: one `everyMs`),
 * then every `everyMs()` (read at each tick, so it can change), one pass at a time. A failing pass
 * is reported to `onError` and the next one comes on schedule. The timer never keeps the process up.
 */
export function periodic(opts: {
  everyMs: () => number;
  firstAfterMs?: number;
  tickMs?: number;
  run: () => Promise<unknown>;
  onError: (e: Error) => void;
}): PeriodicTask {
  let last = Date.now() - opts.everyMs() + (opts.firstAfterMs ?? opts.everyMs());
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped || running || Date.now() - last < opts.everyMs()) return;
    last = Date.now();
    running = opts
      .run()
      .catch((e: unknown) => opts.onError(e instanceof Error ? e : new Error(String(e))))
      .finally(() => (running = undefined));
  }, opts.tickMs ?? 1000);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
