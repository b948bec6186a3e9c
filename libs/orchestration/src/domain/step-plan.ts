import type { Step } from './pipeline';

/**
 * The pure scheduler of one run's steps: which pending steps may start now, which must be skipped
 * (their trigger rule cannot be met), and the run's outcome. The caller owns the states and the I/O.
 */

export type StepState =
  'pending' | 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export const TERMINAL_STEP_STATES: readonly StepState[] = ['succeeded', 'failed', 'skipped', 'cancelled'];

export function isTerminal(state: StepState): boolean {
  return TERMINAL_STEP_STATES.includes(state);
}

export interface StepSkip {
  id: string;
  reason: string;
}

export interface NextActions {
  /** Pending steps whose trigger rule is met, in declaration order. */
  ready: string[];
  /** Pending steps whose trigger rule can no longer be met. */
  skip: StepSkip[];
}

/**
 * One pass over the pending steps (a step missing from `states` is pending) whose upstream steps
 * are all terminal:
 * - no upstream: ready;
 * - all_success: ready iff every upstream succeeded, else skipped naming the ones that did not;
 * - all_done: ready;
 * - one_failed: ready iff an upstream failed, else skipped.
 * A skip here makes its downstream decidable only on the next pass (see `settle`).
 */
export function nextActions(steps: Step[], states: ReadonlyMap<string, StepState>): NextActions {
  const stateOf = (id: string): StepState => states.get(id) ?? 'pending';
  const ready: string[] = [];
  const skip: StepSkip[] = [];
  for (const step of steps) {
    if (stateOf(step.id) !== 'pending') continue;
    const upstream = [...new Set(step.dependsOn)];
    if (!upstream.every((id) => isTerminal(stateOf(id)))) continue;
    if (upstream.length === 0) {
      ready.push(step.id);
      continue;
    }
    switch (step.triggerRule) {
      case 'all_success': {
        const notOk = upstream.filter((id) => stateOf(id) !== 'succeeded');
        if (notOk.length === 0) ready.push(step.id);
        else skip.push({ id: step.id, reason: notOk.map((id) => `upstream "${id}" ${stateOf(id)}`).join(', ') });
        break;
      }
      case 'all_done':
        ready.push(step.id);
        break;
      case 'one_failed':
        if (upstream.some((id) => stateOf(id) === 'failed')) ready.push(step.id);
        else skip.push({ id: step.id, reason: 'no upstream failed (trigger_rule one_failed)' });
        break;
    }
  }
  return { ready, skip };
}

export interface Settled extends NextActions {
  /** The input states with every skip applied (ready steps stay pending: the caller queues them). */
  states: Map<string, StepState>;
}

/** `nextActions` repeated, applying its skips, until no more skips: every skip a change of state implies. */
export function settle(steps: Step[], states: ReadonlyMap<string, StepState>): Settled {
  const next = new Map(states);
  const skip: StepSkip[] = [];
  for (;;) {
    const actions = nextActions(steps, next);
    if (actions.skip.length === 0) return { ready: actions.ready, skip, states: next };
    for (const s of actions.skip) {
      next.set(s.id, 'skipped');
      skip.push(s);
    }
  }
}

/**
 * The run's outcome from its steps' states: `running` while a step is not terminal; then `failed`
 * iff a step failed or was cancelled (the run did not do all its work; a cancelled run is marked
 * so by its caller); else `succeeded` — skipped steps alone never fail a run (a skip under
 * all_success always follows a failure upstream, which already fails it; one under one_failed
 * means nothing failed).
 */
export function runOutcome(states: ReadonlyMap<string, StepState>): 'running' | 'succeeded' | 'failed' {
  const all = [...states.values()];
  if (!all.every(isTerminal)) return 'running';
  return all.some((s) => s === 'failed' || s === 'cancelled') ? 'failed' : 'succeeded';
}
