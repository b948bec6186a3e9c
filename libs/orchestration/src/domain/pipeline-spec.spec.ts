import { parse as parseYaml } from 'yaml';
import type { Step } from './pipeline';
import {
  clearPiiSteps,
  DEFAULT_WAIT_MS,
  PipelineSpecError,
  parseDuration,
  parsePipelineSpec,
  topologicalOrder,
} from './pipeline-spec';

/** The problems parsePipelineSpec throws for `raw` (fails the test when it does not throw). */
function problemsOf(raw: unknown): string[] {
  try {
    parsePipelineSpec(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(PipelineSpecError);
    return (e as PipelineSpecError).problems;
  }
  throw new Error('expected a PipelineSpecError');
}

const sql = (id: string, extra: Record<string, unknown> = {}) => ({ id, kind: 'sql', sql: 'select 1', ...extra });
const spec = (steps: unknown[], extra: Record<string, unknown> = {}) => ({ name: 'nightly', steps, ...extra });

describe('parsePipelineSpec', () => {
  it('parses a minimal spec with every default', () => {
    expect(parsePipelineSpec(spec([sql('a')]))).toEqual({
      name: 'nightly',
      description: null,
      steps: [
        {
          id: 'a',
          kind: 'sql',
          sql: 'select 1',
          dependsOn: [],
          retries: { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 300000 },
          timeoutMs: null,
          triggerRule: 'all_success',
          pool: null,
        },
      ],
      schedule: null,
      partitions: null,
      maxActiveRuns: 1,
      concurrency: 4,
      sla: null,
      alerts: [],
    });
  });

  it('parses every step kind from snake_case YAML', () => {
    const p = parsePipelineSpec(
      parseYaml(`
name: daily_sales
description: Loads and builds sales
max_active_runs: 3
concurrency: 8
schedule: { cron: "30 2 * * *", timezone: Europe/Paris, catchup: latest }
partitions: { kind: daily, start: "2024-01-01" }
steps:
  - { id: load, kind: ingest, source: shop_orders, path: "in/orders.csv", pool: warehouse-io }
  - id: build
    kind: build
    project: sales
    select: "tag:daily"
    full_refresh: true
    depends_on: load
    retries: 2
    timeout: 30m
  - { id: check, kind: check, suite: sales_suite, depends_on: [build], trigger_rule: all_done }
  - { id: notify, kind: sql, sql: "insert into alerts values (1)", depends_on: [check], trigger_rule: one_failed }
  - { id: upstream, kind: wait_for, pipeline: daily_orders, wait: 2h }
  - { id: fresh, kind: wait_for, dataset: raw.orders, fresh_within: 1d }
  - { id: sub, kind: pipeline, pipeline: daily_refunds, depends_on: [upstream, fresh] }
`),
    );
    expect(p.name).toBe('daily_sales');
    expect(p.description).toBe('Loads and builds sales');
    expect(p.maxActiveRuns).toBe(3);
    expect(p.concurrency).toBe(8);
    expect(p.schedule).toEqual({ cron: '30 2 * * *', everyMs: null, timezone: 'Europe/Paris', catchup: 'latest' });
    expect(p.partitions).toEqual({ kind: 'daily', start: '2024-01-01', values: null });
    const byId = new Map(p.steps.map((s) => [s.id, s]));
    expect(byId.get('load')).toMatchObject({
      kind: 'ingest',
      source: 'shop_orders',
      path: 'in/orders.csv',
      pool: 'warehouse-io',
    });
    expect(byId.get('build')).toMatchObject({
      kind: 'build',
      project: 'sales',
      select: 'tag:daily',
      fullRefresh: true,
      dependsOn: ['load'],
      retries: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 300000 },
      timeoutMs: 1_800_000,
    });
    expect(byId.get('check')).toMatchObject({ kind: 'check', suite: 'sales_suite', triggerRule: 'all_done' });
    expect(byId.get('notify')).toMatchObject({ kind: 'sql', triggerRule: 'one_failed', dependsOn: ['check'] });
    expect(byId.get('upstream')).toMatchObject({
      kind: 'wait_for',
      pipeline: 'daily_orders',
      dataset: null,
      freshWithinMs: null,
      waitMs: 7_200_000,
    });
    expect(byId.get('fresh')).toMatchObject({
      kind: 'wait_for',
      pipeline: null,
      dataset: 'raw.orders',
      freshWithinMs: 86_400_000,
      waitMs: DEFAULT_WAIT_MS,
    });
    expect(byId.get('sub')).toMatchObject({
      kind: 'pipeline',
      pipeline: 'daily_refunds',
      dependsOn: ['upstream', 'fresh'],
    });
  });

  it('accepts camelCase keys as given over REST', () => {
    const p = parsePipelineSpec({
      name: 'rest_one',
      maxActiveRuns: 2,
      steps: [
        { id: 'a', kind: 'build', project: 'p', fullRefresh: false },
        {
          id: 'b',
          kind: 'wait_for',
          dataset: 'd',
          freshWithin: '90m',
          dependsOn: ['a'],
          triggerRule: 'all_done',
          retries: { maxAttempts: 5, baseDelay: '2s', maxDelay: '1m' },
        },
      ],
    });
    expect(p.maxActiveRuns).toBe(2);
    expect(p.steps[0]).toMatchObject({ fullRefresh: false, select: null });
    expect(p.steps[1]).toMatchObject({
      dependsOn: ['a'],
      triggerRule: 'all_done',
      freshWithinMs: 5_400_000,
      retries: { maxAttempts: 5, baseDelayMs: 2000, maxDelayMs: 60000 },
    });
  });

  it('reads retries as snake_case object, raising the ceiling for a base above the default one', () => {
    const p = parsePipelineSpec(
      spec([
        sql('a', { retries: { max_attempts: 4, base_delay: 500, max_delay: '10s' } }),
        sql('b', { retries: { base_delay: '10m' } }),
        sql('c', { retries: 0 }),
        sql('d', { retries: 19 }),
      ]),
    );
    expect(p.steps.map((s) => s.retries)).toEqual([
      { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 10000 },
      { maxAttempts: 1, baseDelayMs: 600000, maxDelayMs: 600000 },
      { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 300000 },
      { maxAttempts: 20, baseDelayMs: 1000, maxDelayMs: 300000 },
    ]);
  });

  it('rejects bad retries with their path', () => {
    expect(
      problemsOf(
        spec([
          sql('a', { retries: 20 }),
          sql('b', { retries: -1 }),
          sql('c', { retries: { max_attempts: 0 } }),
          sql('d', { retries: { maxAttempts: 21, base_delay: 'soon' } }),
          sql('e', { retries: { base_delay: '10s', max_delay: '1s' } }),
          sql('f', { retries: { max_attempts: 2, tries: 3 } }),
          sql('g', { retries: 'twice' }),
        ]),
      ),
    ).toEqual([
      'steps[0].retries: 20 must be a whole number 0..19 (retries after the first attempt)',
      'steps[1].retries: -1 must be a whole number 0..19 (retries after the first attempt)',
      'steps[2].retries.max_attempts: 0 must be a whole number 1..20',
      'steps[3].retries.maxAttempts: 21 must be a whole number 1..20',
      'steps[3].retries.base_delay: bad duration "soon" (expected ms, or a string like "500ms", "30s", "5m", "1h", "1d")',
      'steps[4].retries.max_delay: 1000 ms is below the base delay (10000 ms)',
      'steps[5].retries: unknown key "tries"',
      'steps[6].retries: expected a number of retries or {max_attempts, base_delay, max_delay}, got string "twice"',
    ]);
  });

  it('collects every problem at once, each with its path', () => {
    const problems = problemsOf({
      name: 'Bad-Name',
      concurrency: 0,
      max_active_runs: 101,
      steps: [
        { id: 'load', kind: 'ingest' },
        { id: 'load', kind: 'build' },
        { id: 'has space', kind: 'teleport' },
        { id: 'c', kind: 'sql', sql: '   ', depends_on: ['lod'], timeout: 0, trigger_rule: 'any', pool: 'Big Pool' },
      ],
    });
    expect(problems).toEqual([
      'name: "Bad-Name" must match ^[a-z][a-z0-9_]{0,62}$',
      'max_active_runs: 101 must be a whole number 1..100',
      'concurrency: 0 must be a whole number 1..64',
      'steps[0].source: required',
      'steps[1].id: duplicate id "load" (also steps[0])',
      'steps[1].project: required',
      'steps[2].id: "has space" must match ^[A-Za-z0-9_-]{1,100}$',
      'steps[2].kind: unknown kind "teleport" (one of ingest, build, check, sql, wait_for, pipeline, export)',
      'steps[3].timeout: must be more than 0',
      'steps[3].trigger_rule: unknown trigger rule "any" (one of all_success, all_done, one_failed)',
      'steps[3].pool: "Big Pool" must match ^[a-z][a-z0-9_-]{0,62}$ or be null',
      'steps[3].sql: expected a non-empty string, got "   "',
      'steps[3].depends_on: unknown step "lod"',
    ]);
  });

  it('throws one error whose message joins the problems', () => {
    expect(() => parsePipelineSpec({ steps: [] })).toThrow('name: required; steps: must not be empty');
  });

  it('requires an object, a name and a non-empty list of steps', () => {
    expect(problemsOf(null)).toEqual(['spec: expected an object, got null']);
    expect(problemsOf(['a'])).toEqual(['spec: expected an object, got a list']);
    expect(problemsOf({ name: 'x' })).toEqual(['steps: required (a non-empty list)']);
    expect(problemsOf({ name: 'x', steps: {} })).toEqual(['steps: expected a list, got an object']);
    expect(problemsOf({ name: 'x', steps: [null, 3] })).toEqual([
      'steps[0]: expected an object, got null',
      'steps[1]: expected an object, got number 3',
    ]);
  });

  it('checks the name pattern bounds', () => {
    expect(parsePipelineSpec(spec([sql('a')], { name: 'a'.repeat(63) })).name).toHaveLength(63);
    expect(problemsOf(spec([sql('a')], { name: 'a'.repeat(64) }))[0]).toMatch(/^name: /);
    expect(problemsOf(spec([sql('a')], { name: '1abc' }))[0]).toMatch(/^name: "1abc" must match/);
  });

  it('caps the steps at 500 and step ids at 100 characters', () => {
    const many = Array.from({ length: 501 }, (_, i) => sql(`s${i}`));
    expect(problemsOf(spec(many))).toEqual(['steps: at most 500 steps, got 501']);
    expect(parsePipelineSpec(spec(many.slice(0, 500))).steps).toHaveLength(500);
    expect(parsePipelineSpec(spec([sql('x'.repeat(100))])).steps[0]!.id).toHaveLength(100);
    expect(problemsOf(spec([sql('x'.repeat(101))]))[0]).toMatch(/^steps\[0\]\.id: /);
  });

  it('reports unknown keys, with a suggestion for a near miss, and keys of another kind', () => {
    expect(
      problemsOf({
        name: 'x',
        stpes: [],
        steps: [
          { id: 'a', kind: 'ingest', sorce: 's' },
          { id: 'b', kind: 'sql', sql: 'select 1', project: 'p', zzz: 1 },
          { id: 'c', kind: 'nope', project: 'p', zzz: 1 },
        ],
      }),
    ).toEqual([
      'steps[0].source: required',
      'steps[0]: unknown key "sorce" (did you mean "source"?)',
      'steps[1]: key "project" does not apply to kind "sql"',
      'steps[1]: unknown key "zzz"',
      'steps[2].kind: unknown kind "nope" (one of ingest, build, check, sql, wait_for, pipeline, export)',
      'steps[2]: unknown key "zzz"',
      'spec: unknown key "stpes" (did you mean "steps"?)',
    ]);
  });

  it('rejects both spellings of one key', () => {
    expect(problemsOf(spec([sql('a'), sql('b', { depends_on: 'a', dependsOn: ['a'] })]))).toEqual([
      'steps[1]: both "depends_on" and "dependsOn" given; use one',
    ]);
  });

  it('checks the fields of each kind', () => {
    expect(
      problemsOf(
        spec([
          { id: 'a', kind: 'ingest', source: 3, path: '' },
          { id: 'b', kind: 'build', project: 'p', full_refresh: 'yes', select: 5 },
          { id: 'c', kind: 'check' },
          { id: 'd', kind: 'sql' },
          { id: 'e', kind: 'pipeline' },
          { id: 'f', kind: 'pipeline', pipeline: 'nightly' },
          { id: 'g', kind: 'pipeline', pipeline: 'Other' },
        ]),
      ),
    ).toEqual([
      'steps[0].source: expected a non-empty string, got 3',
      'steps[0].path: expected a non-empty string or null, got ""',
      'steps[1].full_refresh: expected true or false, got "yes"',
      'steps[1].select: expected a non-empty string or null, got 5',
      'steps[2].suite: required',
      'steps[3].sql: required',
      'steps[4].pipeline: required',
      'steps[5].pipeline: a pipeline cannot run or wait for itself ("nightly")',
      'steps[6].pipeline: "Other" must be a pipeline name matching ^[a-z][a-z0-9_]{0,62}$',
    ]);
  });

  it('needs exactly one of pipeline or dataset in a wait_for step; fresh_within with either', () => {
    expect(
      problemsOf(
        spec([
          { id: 'a', kind: 'wait_for' },
          { id: 'b', kind: 'wait_for', pipeline: 'other', dataset: 'd' },
          { id: 'c', kind: 'wait_for', pipeline: 'other', fresh_within: '1h' },
          { id: 'd', kind: 'wait_for', dataset: 'd', fresh_within: '0s', wait: 'forever' },
          { id: 'e', kind: 'wait_for', pipeline: 'nightly' },
        ]),
      ),
    ).toEqual([
      'steps[0]: a wait_for step needs exactly one of pipeline or dataset',
      'steps[1]: a wait_for step needs exactly one of pipeline or dataset',
      'steps[3].fresh_within: must be more than 0',
      'steps[3].wait: bad duration "forever" (expected ms, or a string like "500ms", "30s", "5m", "1h", "1d")',
      'steps[4].pipeline: a pipeline cannot run or wait for itself ("nightly")',
    ]);
    // a pipeline that succeeded within the last hour (for runs without a partition)
    const ok = parsePipelineSpec(spec([{ id: 'c', kind: 'wait_for', pipeline: 'other', fresh_within: '1h' }]));
    expect(ok.steps[0]).toMatchObject({ pipeline: 'other', dataset: null, freshWithinMs: 3_600_000 });
  });

  it('checks dependencies: list or string, known, not itself, not repeated', () => {
    const p = parsePipelineSpec(
      spec([sql('a'), sql('b', { depends_on: 'a' }), sql('c', { depends_on: ['a', 'b', 'a'] })]),
    );
    expect(p.steps.map((s) => s.dependsOn)).toEqual([[], ['a'], ['a', 'b']]);
    expect(problemsOf(spec([sql('a', { depends_on: ['a', 7] }), sql('b', { dependsOn: { x: 1 } })]))).toEqual([
      'steps[0].depends_on[1]: expected a step id, got number 7',
      'steps[1].dependsOn: expected a step id or a list of them',
      'steps[0].depends_on: a step cannot depend on itself',
    ]);
  });

  describe('cycles', () => {
    it('reports a cycle with its path, upstream first, from its earliest-declared step', () => {
      expect(
        problemsOf(spec([sql('a', { depends_on: 'c' }), sql('b', { depends_on: 'a' }), sql('c', { depends_on: 'b' })])),
      ).toEqual(['cycle: a -> b -> c -> a']);
    });

    it('reports each cycle once, in declaration order, leaving acyclic steps out', () => {
      expect(
        problemsOf(
          spec([
            sql('root'),
            sql('x', { depends_on: ['root', 'y'] }),
            sql('p', { depends_on: 'q' }),
            sql('y', { depends_on: 'x' }),
            sql('q', { depends_on: 'p' }),
            sql('leaf', { depends_on: ['x', 'q'] }),
          ]),
        ),
      ).toEqual(['cycle: x -> y -> x', 'cycle: p -> q -> p']);
    });

    it('reports the shortest cycle through the first step of a tangle', () => {
      // a -> b -> c -> d -> a and c -> a: one tangle, reported once by its shortest way back to a
      const problems = problemsOf(
        spec([
          sql('a', { depends_on: ['d', 'c'] }),
          sql('b', { depends_on: 'a' }),
          sql('c', { depends_on: 'b' }),
          sql('d', { depends_on: 'c' }),
        ]),
      );
      expect(problems).toEqual(['cycle: a -> b -> c -> a']);
    });

    it('is deterministic', () => {
      const raw = spec([sql('a', { depends_on: 'b' }), sql('b', { depends_on: 'a' })]);
      expect(problemsOf(raw)).toEqual(problemsOf(raw));
      expect(problemsOf(raw)).toEqual(['cycle: a -> b -> a']);
    });
  });

  describe('schedule', () => {
    it('takes a bare cron string, in UTC', () => {
      expect(parsePipelineSpec(spec([sql('a')], { schedule: '*/15 * * * *' })).schedule).toEqual({
        cron: '*/15 * * * *',
        everyMs: null,
        timezone: 'UTC',
        catchup: 'none',
      });
    });

    it('maps the aliases to five-field crons', () => {
      const cron = (c: string) => parsePipelineSpec(spec([sql('a')], { schedule: { cron: c } })).schedule!.cron;
      expect(cron('@hourly')).toBe('0 * * * *');
      expect(cron('@daily')).toBe('0 0 * * *');
      expect(cron('@midnight')).toBe('0 0 * * *');
      expect(cron('@weekly')).toBe('0 0 * * 0');
      expect(cron('@monthly')).toBe('0 0 1 * *');
      expect(cron('@yearly')).toBe('0 0 1 1 *');
    });

    it('takes every as a duration', () => {
      expect(parsePipelineSpec(spec([sql('a')], { schedule: { every: '15m', catchup: 'all' } })).schedule).toEqual({
        cron: null,
        everyMs: 900_000,
        timezone: 'UTC',
        catchup: 'all',
      });
    });

    it('takes datasets as a data-aware schedule (all by default, or any); the stored form reparses identically', () => {
      const all = parsePipelineSpec(spec([sql('a')], { schedule: { datasets: ['orders', 'raw.customers'] } }));
      expect(all.schedule).toEqual({
        cron: null,
        everyMs: null,
        timezone: 'UTC',
        catchup: 'none',
        datasets: ['orders', 'raw.customers'],
        when: 'all',
      });
      expect(parsePipelineSpec(JSON.parse(JSON.stringify(all)))).toEqual(all);
      const any = parsePipelineSpec(spec([sql('a')], { schedule: { datasets: ['orders'], when: 'any' } }));
      expect(any.schedule?.when).toBe('any');
      expect(parsePipelineSpec(JSON.parse(JSON.stringify(any)))).toEqual(any);
    });

    it('refuses a data-aware schedule with a clock, an empty or bad list, or a when without datasets', () => {
      expect(problemsOf(spec([sql('a')], { schedule: { datasets: ['a'], every: '1h' } }))).toEqual([
        'schedule: give exactly one of cron, every or datasets',
      ]);
      expect(problemsOf(spec([sql('a')], { schedule: { datasets: [] } }))).toEqual([
        'schedule.datasets: expected a list of 1 to 50 dataset names, got 0 names',
      ]);
      expect(problemsOf(spec([sql('a')], { schedule: { datasets: ['a b', 'c', 'c'], when: 'both' } }))).toEqual([
        'schedule.datasets[0]: "a b" is not a dataset name (^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$)',
        'schedule.datasets: "c" is listed twice',
        'schedule.when: "both" must be one of all, any',
      ]);
      expect(problemsOf(spec([sql('a')], { schedule: { cron: '@daily', when: 'any' } }))).toEqual([
        'schedule.when: only with datasets',
      ]);
    });

    it('names the bad value in each problem', () => {
      expect(problemsOf(spec([sql('a')], { schedule: { cron: '61 * * * *', timezone: 'Mars/Olympus' } }))).toEqual([
        'schedule.timezone: unknown time zone "Mars/Olympus"',
        'schedule.cron: bad cron "61 * * * *": Field value (61) is out of range',
      ]);
      expect(problemsOf(spec([sql('a')], { schedule: 'every day' }))).toEqual([
        'schedule: bad cron "every day": expected 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first, got 2',
      ]);
      expect(problemsOf(spec([sql('a')], { schedule: { cron: '* * * * * * *' } }))[0]).toMatch(
        /^schedule\.cron: bad cron "\* \* \* \* \* \* \*": expected 5 fields .*got 7/,
      );
      // seconds first, as the cron library (and sources' schedules) read it
      expect(parsePipelineSpec(spec([sql('a')], { schedule: { cron: '*/10 * * * * *' } })).schedule?.cron).toBe(
        '*/10 * * * * *',
      );
      expect(problemsOf(spec([sql('a')], { schedule: { cron: '@reboot' } }))[0]).toMatch(
        /^schedule\.cron: bad cron "@reboot": unknown alias/,
      );
      // well formed but never firing: parsed here, refused by scheduleRefusal (422, not a definition problem)
      expect(parsePipelineSpec(spec([sql('a')], { schedule: { cron: '0 0 31 2 *' } })).schedule?.cron).toBe(
        '0 0 31 2 *',
      );
      expect(problemsOf(spec([sql('a')], { schedule: { cron: 'a b c d e' } }))[0]).toMatch(
        /^schedule\.cron: bad cron "a b c d e": .+/,
      );
    });

    it('needs exactly one of cron or every, and a known catchup', () => {
      expect(problemsOf(spec([sql('a')], { schedule: {} }))).toEqual([
        'schedule: give exactly one of cron, every or datasets',
      ]);
      expect(
        problemsOf(spec([sql('a')], { schedule: { cron: '@daily', every: '1h', catchup: 'some', tz: 'UTC' } })),
      ).toEqual([
        'schedule: give exactly one of cron, every or datasets',
        'schedule.catchup: "some" must be one of none, latest, all',
        'schedule: unknown key "tz"',
      ]);
      expect(problemsOf(spec([sql('a')], { schedule: { every: '10ms' } }))).toEqual([
        'schedule.every: at least 1000 ms, got 10',
      ]);
      expect(problemsOf(spec([sql('a')], { schedule: 5 }))[0]).toMatch(/^schedule: expected a cron string/);
    });
  });

  describe('partitions', () => {
    it('takes time partitions from an ISO date or date-time', () => {
      const parts = (p: unknown) => parsePipelineSpec(spec([sql('a')], { partitions: p })).partitions;
      expect(parts({ kind: 'hourly', start: '2024-03-01T00:00:00Z' })).toEqual({
        kind: 'hourly',
        start: '2024-03-01T00:00:00Z',
        values: null,
      });
      expect(parts({ kind: 'monthly', start: '2024-01-01' })!.start).toBe('2024-01-01');
      expect(parts({ kind: 'daily', start: new Date('2024-01-02T00:00:00Z') })!.start).toBe('2024-01-02T00:00:00.000Z');
    });

    it('takes static partitions', () => {
      expect(
        parsePipelineSpec(
          spec([sql('a')], { partitions: { kind: 'static', values: ['eu', 'region=us/west', 'v1.2'] } }),
        ).partitions,
      ).toEqual({ kind: 'static', start: null, values: ['eu', 'region=us/west', 'v1.2'] });
    });

    it('rejects bad partitions', () => {
      expect(problemsOf(spec([sql('a')], { partitions: { kind: 'daily', start: '2024-02-30' } }))).toEqual([
        'partitions.start: "2024-02-30" is not an ISO date (e.g. "2024-01-01" or "2024-01-01T00:00:00Z")',
      ]);
      expect(problemsOf(spec([sql('a')], { partitions: { kind: 'daily' } }))).toEqual([
        'partitions.start: required (an ISO date, e.g. "2024-01-01")',
      ]);
      expect(problemsOf(spec([sql('a')], { partitions: { kind: 'weekly', start: '2024-01-01' } }))).toEqual([
        'partitions.kind: "weekly" must be one of hourly, daily, monthly, static',
      ]);
      expect(problemsOf(spec([sql('a')], { partitions: { start: '2024-01-01' } }))).toEqual([
        'partitions.kind: required (one of hourly, daily, monthly, static)',
      ]);
      expect(
        problemsOf(spec([sql('a')], { partitions: { kind: 'hourly', start: '2024-01-01', values: ['a'], every: 1 } })),
      ).toEqual(['partitions: unknown key "every"', 'partitions.values: only for static partitions']);
      expect(
        problemsOf(
          spec([sql('a')], {
            partitions: { kind: 'static', start: '2024-01-01', values: ['a', 'a', '../etc', 'has space', '', 4] },
          }),
        ),
      ).toEqual([
        'partitions.start: only for hourly, daily and monthly partitions',
        'partitions.values[1]: duplicate value "a" (also values[0])',
        'partitions.values[2]: "../etc" must match ^[A-Za-z0-9_.=\\-/]{1,200}$ without ".."',
        'partitions.values[3]: "has space" must match ^[A-Za-z0-9_.=\\-/]{1,200}$ without ".."',
        'partitions.values[4]: "" must match ^[A-Za-z0-9_.=\\-/]{1,200}$ without ".."',
        'partitions.values[5]: 4 must match ^[A-Za-z0-9_.=\\-/]{1,200}$ without ".."',
      ]);
      expect(problemsOf(spec([sql('a')], { partitions: { kind: 'static', values: [] } }))).toEqual([
        'partitions.values: required, a non-empty list of partition keys',
      ]);
    });
  });

  it('accepts null for the optional settings', () => {
    const p = parsePipelineSpec(
      spec([sql('a', { pool: null, timeout: null, depends_on: null, retries: null })], {
        description: null,
        schedule: null,
        partitions: null,
        concurrency: null,
      }),
    );
    expect(p).toMatchObject({ description: null, schedule: null, partitions: null, concurrency: 4 });
    expect(p.steps[0]).toMatchObject({ pool: null, timeoutMs: null, dependsOn: [], retries: { maxAttempts: 1 } });
  });
});

describe('parseDuration', () => {
  const ok = (v: unknown) => {
    const problems: string[] = [];
    const ms = parseDuration(v, 'x', problems);
    expect(problems).toEqual([]);
    return ms;
  };
  const bad = (v: unknown) => {
    const problems: string[] = [];
    expect(parseDuration(v, 'steps[0].timeout', problems)).toBeNull();
    expect(problems).toHaveLength(1);
    return problems[0];
  };

  it('reads ms numbers and unit strings', () => {
    expect(ok(0)).toBe(0);
    expect(ok(1500)).toBe(1500);
    expect(ok('500ms')).toBe(500);
    expect(ok('30s')).toBe(30_000);
    expect(ok('5m')).toBe(300_000);
    expect(ok('1h')).toBe(3_600_000);
    expect(ok('1d')).toBe(86_400_000);
    expect(ok('1.5s')).toBe(1500);
    expect(ok('1h30m')).toBe(5_400_000);
    expect(ok(' 2m ')).toBe(120_000);
  });

  it('is null with no problem when absent', () => {
    expect(ok(undefined)).toBeNull();
    expect(ok(null)).toBeNull();
  });

  it('rejects anything else, naming the path and the value', () => {
    expect(bad('5 minutes')).toBe(
      'steps[0].timeout: bad duration "5 minutes" (expected ms, or a string like "500ms", "30s", "5m", "1h", "1d")',
    );
    expect(bad('10')).toMatch(/bad duration "10"/);
    expect(bad('5M')).toMatch(/bad duration "5M"/);
    expect(bad('')).toMatch(/bad duration ""/);
    expect(bad(true)).toMatch(/bad duration true/);
    expect(bad(-1)).toBe('steps[0].timeout: expected a whole number of ms >= 0, got -1');
    expect(bad(1.5)).toMatch(/whole number of ms/);
    expect(bad(Number.NaN)).toMatch(/whole number of ms/);
    expect(bad('0.0001s')).toBe('steps[0].timeout: duration "0.0001s" is not a whole number of ms');
  });
});

describe('topologicalOrder', () => {
  const step = (id: string, dependsOn: string[] = []): Step =>
    ({
      id,
      kind: 'sql',
      sql: 'select 1',
      dependsOn,
      retries: { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 300000 },
      timeoutMs: null,
      triggerRule: 'all_success',
      pool: null,
    }) as Step;

  it('puts every step after its upstream steps, keeping declaration order among ready ones', () => {
    expect(topologicalOrder([step('c', ['b']), step('a'), step('b', ['a']), step('d'), step('e', ['a', 'd'])])).toEqual(
      // after a: b (index 2) and d (3) are ready; b goes first, which makes c (0) ready before d
      ['a', 'b', 'c', 'd', 'e'],
    );
  });

  it('keeps declaration order for independent steps and handles diamonds', () => {
    expect(topologicalOrder([step('z'), step('y'), step('x')])).toEqual(['z', 'y', 'x']);
    expect(topologicalOrder([step('join', ['l', 'r']), step('r', ['top']), step('l', ['top']), step('top')])).toEqual([
      'top',
      'r',
      'l',
      'join',
    ]);
  });

  it('prefers an earlier-declared step that becomes ready later over a later one already ready', () => {
    // b is ready only after a; c is ready at once but declared after b
    expect(topologicalOrder([step('a'), step('b', ['a']), step('c')])).toEqual(['a', 'b', 'c']);
  });

  it('orders what parsePipelineSpec returns', () => {
    const p = parsePipelineSpec(
      spec([sql('report', { depends_on: ['build'] }), sql('load'), sql('build', { depends_on: 'load' })]),
    );
    expect(topologicalOrder(p.steps)).toEqual(['load', 'build', 'report']);
  });

  it('throws on a cycle or an unknown dependency', () => {
    expect(() => topologicalOrder([step('a', ['b']), step('b', ['a']), step('c')])).toThrow(
      'steps: not a DAG (in or after a cycle: "a", "b")',
    );
    expect(() => topologicalOrder([step('a', ['nope'])])).toThrow(PipelineSpecError);
  });
});

describe('a stored definition reads back as itself (GET, edit, PUT)', () => {
  it('parses its own output to the same spec, for every step kind and option', () => {
    const raw = {
      name: 'round_trip',
      description: 'all of it',
      schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin', catchup: 'all' },
      partitions: { kind: 'daily', start: '2026-01-01' },
      max_active_runs: 2,
      concurrency: 3,
      sla: '2h30m',
      alerts: ['ops', 'slack-data'],
      steps: [
        {
          id: 'load',
          kind: 'ingest',
          source: 'orders',
          path: 'in/{partition}.csv',
          retries: { max_attempts: 3, base_delay: '2s', max_delay: '1m' },
          timeout: '10m',
          pool: 'loads',
        },
        { id: 'build', kind: 'build', project: 'shop', select: 'tag:daily', full_refresh: true, depends_on: ['load'] },
        { id: 'check', kind: 'check', suite: 's', depends_on: 'build', trigger_rule: 'all_done' },
        { id: 'sql', kind: 'sql', sql: 'select 1', depends_on: ['check'] },
        { id: 'wait', kind: 'wait_for', dataset: 'orders', fresh_within: '1h', wait: '30m' },
      ],
    };
    const once = parsePipelineSpec(raw);
    expect([once.sla, once.alerts]).toEqual([9_000_000, ['ops', 'slack-data']]);
    expect(parsePipelineSpec(JSON.parse(JSON.stringify(once)))).toEqual(once);
    const every = parsePipelineSpec({
      name: 'ev',
      schedule: { every: '15m' },
      steps: [{ id: 'a', kind: 'sql', sql: 'select 1' }],
    });
    expect(parsePipelineSpec(JSON.parse(JSON.stringify(every)))).toEqual(every);
  });
});

describe('sla and alerts', () => {
  const scheduled = { schedule: { every: '1h' } };
  it('takes an SLA as a duration or ms, and alert destinations as a name or a list', () => {
    expect(parsePipelineSpec(spec([sql('a')], { ...scheduled, sla: '30m' })).sla).toBe(1_800_000);
    expect(parsePipelineSpec(spec([sql('a')], { ...scheduled, sla: 5000 })).sla).toBe(5000);
    expect(parsePipelineSpec(spec([sql('a')], { alerts: 'ops' })).alerts).toEqual(['ops']);
    expect(parsePipelineSpec(spec([sql('a')], { alerts: ['ops', 'ops', 'team_b'] })).alerts).toEqual(['ops', 'team_b']);
  });

  it('names every problem: a zero or bad SLA, an SLA without a schedule, bad destination names', () => {
    const problems = (raw: unknown) => {
      try {
        parsePipelineSpec(raw);
        return [];
      } catch (e) {
        return (e as PipelineSpecError).problems;
      }
    };
    expect(problems(spec([sql('a')], { ...scheduled, sla: 0 }))).toEqual(['sla: must be more than 0']);
    expect(problems(spec([sql('a')], { ...scheduled, sla: 'soon' }))[0]).toMatch(/^sla: bad duration "soon"/);
    expect(problems(spec([sql('a')], { sla: '1h' }))).toEqual([
      'sla: only for a pipeline with a schedule (it is counted from each scheduled time)',
    ]);
    expect(problems(spec([sql('a')], { alerts: ['Ops!', 3] }))).toEqual([
      'alerts[0]: "Ops!" must match ^[a-z][a-z0-9_-]{0,62}$',
      'alerts[1]: 3 must match ^[a-z][a-z0-9_-]{0,62}$',
    ]);
    expect(problems(spec([sql('a')], { alerts: { ops: true } }))).toEqual([
      'alerts: expected a list of alert destination names, got an object',
    ]);
  });
});

describe('parsePipelineSpec: export steps', () => {
  it('takes an export step with its target, partition columns, codec and incremental flag; refuses bad ones with their path', () => {
    const p = parsePipelineSpec({
      name: 'lake',
      steps: [
        {
          id: 'e',
          kind: 'export',
          dataset: 'orders',
          target: 'lake/{partition}',
          partition_by: ['day'],
          incremental: true,
        },
      ],
    });
    expect(p.steps[0]).toMatchObject({
      kind: 'export',
      dataset: 'orders',
      target: 'lake/{partition}',
      partitionBy: ['day'],
      compression: null,
      incremental: true,
    });
    expect(parsePipelineSpec(JSON.parse(JSON.stringify(p)))).toEqual(p);
    expect(() =>
      parsePipelineSpec({
        name: 'lake',
        steps: [{ id: 'e', kind: 'export', partition_by: 'day', incremental: 'yes' }],
      }),
    ).toThrow(
      /steps\[0\]\.partition_by: expected a list of column names.*steps\[0\]\.incremental: expected true or false/s,
    );
    for (const target of ['../../etc', 'lake/../../x', 's3://bucket/a/../b', '..\\..\\x'])
      expect(() =>
        parsePipelineSpec({ name: 'lake', steps: [{ id: 'e', kind: 'export', dataset: 'orders', target }] }),
      ).toThrow(/steps\[0\]\.target: .* climbs out of the export root/);
    for (const target of ['lake/../lake2/{partition}', '/srv/exports/x', 's3://bucket/lake'])
      expect(
        parsePipelineSpec({ name: 'lake', steps: [{ id: 'e', kind: 'export', dataset: 'orders', target }] }).steps[0],
      ).toMatchObject({ target });
  });

  it('pii: masked by default (nothing stored), clear only when asked; anything else refused with its path', () => {
    const step = (extra: Record<string, unknown>) => ({ kind: 'export', dataset: 'people', target: 'lake', ...extra });
    const p = parsePipelineSpec({
      name: 'lake',
      steps: [
        { id: 'plain', ...step({}) },
        { id: 'masked', ...step({ pii: 'masked' }) },
        { id: 'clear', ...step({ pii: 'clear' }) },
        { id: 'unset', ...step({ pii: null }) },
      ],
    });
    expect(p.steps.map((s) => [s.id, 'pii' in s ? (s as { pii?: string }).pii : 'absent'])).toEqual([
      ['plain', 'absent'],
      ['masked', 'absent'],
      ['clear', 'clear'],
      ['unset', 'absent'],
    ]);
    // a stored definition read back is the same (and one without the key stays as it was)
    expect(parsePipelineSpec(JSON.parse(JSON.stringify(p)))).toEqual(p);
    expect(clearPiiSteps(p)).toEqual(['step "clear" (steps[2])']);
    expect(clearPiiSteps(parsePipelineSpec({ name: 'lake', steps: [{ id: 'e', ...step({}) }] }))).toEqual([]);

    expect(
      problemsOf({
        name: 'lake',
        steps: [
          { id: 'a', ...step({ pii: 'CLEAR' }) },
          { id: 'b', ...step({ pii: true }) },
          { id: 'c', kind: 'sql', sql: 'SELECT 1', pii: 'clear' },
        ],
      }),
    ).toEqual([
      'steps[0].pii: "CLEAR" must be one of masked, clear',
      'steps[1].pii: true must be one of masked, clear',
      'steps[2]: key "pii" does not apply to kind "sql"',
    ]);
  });
});
