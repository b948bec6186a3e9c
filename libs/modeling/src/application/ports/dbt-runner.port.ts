import type { DbtInvocationOptions, DbtInvocationResult, DbtNodeResult } from '../../dbt/invocation';

/** Inject with `@Inject(DBT_RUNNER)`: runs dbt invocations off the event loop (internal to modeling). */
export const DBT_RUNNER = Symbol('DBT_RUNNER');

export type DbtRunOptions = Omit<DbtInvocationOptions, 'log' | 'onNodeStart' | 'onNodeResult' | 'shouldStop'>;

export interface DbtRunHandle {
  /** Settles with the invocation's result (a crashed worker is a failed result). */
  done: Promise<DbtInvocationResult>;
  /** No node starts after this (the running one ends). */
  cancel(): void;
}

export interface DbtRunner {
  start(
    options: DbtRunOptions,
    on?: { log?: (l: string) => void; start?: (id: string) => void; result?: (r: DbtNodeResult) => void },
  ): DbtRunHandle;
  /** Parses and selects only: the nodes the invocation would run. */
  plan(options: DbtRunOptions): Promise<DbtInvocationResult>;
}
