import type { Step, TriggerRule } from './pipeline';
import { isTerminal, nextActions, runOutcome, settle, type StepState } from './step-plan';

const step = (id: string, dependsOn: string[] = [], triggerRule: TriggerRule = 'all_success'): Step => ({
  id,
  kind: 'sql',
  sql: 'select 1',
  dependsOn,
  retries: { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 300000 },
  timeoutMs: null,
  triggerRule,
  pool: null,
});
const states = (entries: Record<string, StepState>) => new Map(Object.entries(entries));

describe('nextActions', () => {
  it('makes steps without upstream ready, in declaration order, whatever their rule', () => {
    const steps = [step('b'), step('a', [], 'one_failed'), step('c', ['a'])];
    expect(nextActions(steps, new Map())).toEqual({ ready: ['b', 'a'], skip: [] });
  });

  it('leaves a step alone until all its upstream steps are terminal', () => {
    const steps = [step('a'), step('b'), step('c', ['a', 'b'], 'all_done')];
    for (const s of ['pending', 'queued', 'running', 'retrying'] as StepState[])
      expect(nextActions(steps, states({ a: 'succeeded', b: s })).ready).not.toContain('c');
    expect(nextActions(steps, states({ a: 'succeeded', b: 'failed' })).ready).toEqual(['c']);
  });

  it('only considers pending steps', () => {
    const steps = [step('a'), step('b', ['a'])];
    expect(nextActions(steps, states({ a: 'running' }))).toEqual({ ready: [], skip: [] });
    expect(nextActions(steps, states({ a: 'succeeded', b: 'queued' }))).toEqual({ ready: [], skip: [] });
    expect(nextActions(steps, states({ a: 'succeeded', b: 'cancelled' }))).toEqual({ ready: [], skip: [] });
  });

  describe('all_success', () => {
    const steps = [step('load'), step('other'), step('build', ['load', 'other'])];
    it('is ready when every upstream succeeded', () => {
      expect(nextActions(steps, states({ load: 'succeeded', other: 'succeeded' }))).toEqual({
        ready: ['build'],
        skip: [],
      });
    });
    it('skips naming every upstream that did not succeed', () => {
      expect(nextActions(steps, states({ load: 'failed', other: 'succeeded' })).skip).toEqual([
        { id: 'build', reason: 'upstream "load" failed' },
      ]);
      expect(nextActions(steps, states({ load: 'skipped', other: 'cancelled' })).skip).toEqual([
        { id: 'build', reason: 'upstream "load" skipped, upstream "other" cancelled' },
      ]);
    });
  });

  describe('all_done', () => {
    it('is ready once every upstream is terminal, however it ended', () => {
      const steps = [step('a'), step('b'), step('c'), step('d'), step('z', ['a', 'b', 'c', 'd'], 'all_done')];
      expect(nextActions(steps, states({ a: 'succeeded', b: 'failed', c: 'skipped', d: 'cancelled' }))).toEqual({
        ready: ['z'],
        skip: [],
      });
    });
  });

  describe('one_failed', () => {
    const steps = [step('a'), step('b'), step('alert', ['a', 'b'], 'one_failed')];
    it('is ready when an upstream failed', () => {
      expect(nextActions(steps, states({ a: 'succeeded', b: 'failed' })).ready).toEqual(['alert']);
    });
    it('is skipped when none failed', () => {
      expect(nextActions(steps, states({ a: 'succeeded', b: 'skipped' }))).toEqual({
        ready: [],
        skip: [{ id: 'alert', reason: 'no upstream failed (trigger_rule one_failed)' }],
      });
    });
    it('waits while an upstream may still fail', () => {
      expect(nextActions(steps, states({ a: 'failed', b: 'running' }))).toEqual({ ready: [], skip: [] });
    });
  });

  it('does not propagate a skip within one pass', () => {
    const steps = [step('a'), step('b', ['a']), step('c', ['b'])];
    expect(nextActions(steps, states({ a: 'failed' })).skip.map((s) => s.id)).toEqual(['b']);
  });
});

describe('settle', () => {
  const steps = [
    step('load'),
    step('build', ['load']),
    step('check', ['build']),
    step('cleanup', ['check'], 'all_done'),
    step('alert', ['load', 'build'], 'one_failed'),
  ];

  it('propagates skips down the graph and returns what is then ready', () => {
    const input = states({ load: 'failed' });
    const out = settle(steps, input);
    expect(out.skip).toEqual([
      { id: 'build', reason: 'upstream "load" failed' },
      { id: 'check', reason: 'upstream "build" skipped' },
    ]);
    expect(out.ready).toEqual(['cleanup', 'alert']);
    expect(out.states).toEqual(states({ load: 'failed', build: 'skipped', check: 'skipped' }));
  });

  it('does not mutate the input map', () => {
    const input = states({ load: 'failed' });
    const out = settle(steps, input);
    expect(input).toEqual(states({ load: 'failed' }));
    expect(out.states).not.toBe(input);
  });

  it('skips a one_failed step, and then its all_success downstream, when everything succeeded', () => {
    const more = [...steps, step('page', ['alert'])];
    const out = settle(
      more,
      states({ load: 'succeeded', build: 'succeeded', check: 'succeeded', cleanup: 'succeeded' }),
    );
    expect(out.skip).toEqual([
      { id: 'alert', reason: 'no upstream failed (trigger_rule one_failed)' },
      { id: 'page', reason: 'upstream "alert" skipped' },
    ]);
    expect(out.ready).toEqual([]);
    expect(runOutcome(new Map([...out.states, ['alert', 'skipped'], ['page', 'skipped']]))).toBe('succeeded');
  });

  it('returns the ready steps unchanged when there is nothing to skip', () => {
    const out = settle(steps, new Map());
    expect(out).toEqual({ ready: ['load'], skip: [], states: new Map() });
  });
});

describe('runOutcome', () => {
  it('is running while any step is not terminal', () => {
    for (const s of ['pending', 'queued', 'running', 'retrying'] as StepState[])
      expect(runOutcome(states({ a: 'failed', b: s }))).toBe('running');
  });
  it('is failed when a step failed or was cancelled', () => {
    expect(runOutcome(states({ a: 'succeeded', b: 'failed', c: 'skipped' }))).toBe('failed');
    expect(runOutcome(states({ a: 'succeeded', b: 'cancelled' }))).toBe('failed');
  });
  it('is succeeded when every step succeeded or was skipped', () => {
    expect(runOutcome(states({ a: 'succeeded', b: 'skipped' }))).toBe('succeeded');
    expect(runOutcome(states({ a: 'succeeded' }))).toBe('succeeded');
  });
});

describe('isTerminal', () => {
  it('is true only for the four end states', () => {
    const all: StepState[] = [
      'pending',
      'queued',
      'running',
      'retrying',
      'succeeded',
      'failed',
      'skipped',
      'cancelled',
    ];
    expect(all.filter(isTerminal)).toEqual(['succeeded', 'failed', 'skipped', 'cancelled']);
  });
});
