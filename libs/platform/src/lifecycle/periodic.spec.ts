import { HEARTBEAT_MS, liveStaleMs, periodic } from './periodic';

describe('periodic', () => {
  it('runs one pass at a time on schedule, reports failures, and stop() waits for the pass under way', async () => {
    let passes = 0;
    let release!: () => void;
    const errors: string[] = [];
    const task = periodic({
      everyMs: () => 20,
      firstAfterMs: 0,
      tickMs: 5,
      run: async () => {
        passes++;
        if (passes === 1) throw new Error('first fails');
        await new Promise<void>((r) => (release = r));
      },
      onError: (e) => errors.push(e.message),
    });
    await new Promise((r) => setTimeout(r, 120));
    // the second pass hangs: no third starts while it runs
    expect([passes, errors]).toEqual([2, ['first fails']]);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(passes).toBe(2);
  });

  it('keeps the live stale threshold at three heartbeats or more', () => {
    expect([liveStaleMs(0), liveStaleMs(60_000)]).toEqual([3 * HEARTBEAT_MS, 60_000]);
  });
});
