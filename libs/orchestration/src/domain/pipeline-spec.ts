import { CronTime } from 'cron';
import {
  STEP_KINDS,
  TRIGGER_RULES,
  type Partitions,
  type PipelineSpec,
  type RetryPolicy,
  type Schedule,
  type Step,
  type StepKind,
  type TriggerRule,
} from './pipeline';

/**
 * Validation of a pipeline as given over REST (JSON) or YAML (already parsed), with camelCase or
 * snake_case keys. Every problem is collected, each with its path, before one error is thrown: a
 * user fixing a spec sees all of it at once. Unknown keys are problems too, so a typo never
 * silently drops a setting.
 */

/** Raised by the pure validation; the application layer maps it to a 400. */
export class PipelineSpecError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'PipelineSpecError';
  }
}

export const PIPELINE_NAME_RE = /^[a-z][a-z0-9_]{0,62}$/;
export const STEP_ID_RE = /^[A-Za-z0-9_-]{1,100}$/;
export const POOL_RE = /^[a-z][a-z0-9_-]{0,62}$/;
/** An alert destination's name. */
export const DESTINATION_NAME_RE = /^[a-z][a-z0-9_-]{0,62}$/;
export const PARTITION_VALUE_RE = /^[A-Za-z0-9_.=\-/]{1,200}$/;
export const MAX_STEPS = 500;
export const MAX_ATTEMPTS = 20;
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 1,
  baseDelayMs: 1000,
  maxDelayMs: 300_000,
});
/** How long a `wait_for` step waits by default. */
export const DEFAULT_WAIT_MS = 3_600_000;
/** Datasets one data-aware schedule may wait for. */
const MAX_TRIGGER_DATASETS = 50;
/** A catalog dataset's name as a data-aware schedule names it. */
const DATASET_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;

/** A schedule's `every` below this is a mistake rather than a schedule. */
export const MIN_EVERY_MS = 1000;
/** The cron aliases accepted, as the five-field expressions they are stored as. */
export const CRON_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
});
const CATCHUP = ['none', 'latest', 'all'] as const;
const TIME_PARTITIONS = ['hourly', 'daily', 'monthly'] as const;
const PARTITION_KINDS = [...TIME_PARTITIONS, 'static'] as const;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const DURATION_PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * A duration in ms: a whole number of ms (>= 0), or a string of number+unit parts
 * ("500ms", "30s", "5m", "1h", "1d", "1h30m"). Absent (undefined or null) is null with no problem;
 * anything else not a duration is null with a problem at `path`.
 */
export function parseDuration(v: unknown, path: string, problems: string[]): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) {
      problems.push(`${path}: expected a whole number of ms >= 0, got ${v}`);
      return null;
    }
    return v;
  }
  if (typeof v === 'string') {
    const s = v.trim();
    if (DURATION_RE.test(s)) {
      let ms = 0;
      for (const m of s.matchAll(DURATION_PART_RE)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
      if (Number.isSafeInteger(ms)) return ms;
      problems.push(`${path}: duration "${v}" is not a whole number of ms`);
      return null;
    }
  }
  problems.push(`${path}: bad duration ${show(v)} (expected ms, or a string like "500ms", "30s", "5m", "1h", "1d")`);
  return null;
}

/** The parsed pipeline, or a PipelineSpecError listing every problem found. */
export function parsePipelineSpec(raw: unknown): PipelineSpec {
  const problems: string[] = [];
  if (!isObject(raw)) throw new PipelineSpecError([`spec: expected an object, got ${typeName(raw)}`]);
  const top = new Fields(raw, 'spec', problems);

  const nameField = top.take('name');
  let name = '';
  if (nameField === undefined) problems.push('name: required');
  else if (typeof nameField.value !== 'string' || !PIPELINE_NAME_RE.test(nameField.value))
    problems.push(`name: ${show(nameField.value)} must match ${PIPELINE_NAME_RE.source}`);
  else name = nameField.value;

  const descField = top.take('description');
  let description: string | null = null;
  if (descField !== undefined && descField.value !== null) {
    if (typeof descField.value === 'string') description = descField.value;
    else problems.push(`description: expected a string, got ${typeName(descField.value)}`);
  }

  const maxActiveRuns = intField(top.take('max_active_runs', 'maxActiveRuns'), 1, 100, 1, problems);
  const concurrency = intField(top.take('concurrency'), 1, 64, 4, problems);
  const scheduleField = top.take('schedule');
  const schedule =
    scheduleField === undefined || scheduleField.value === null ? null : parseSchedule(scheduleField.value, problems);
  const partitionsField = top.take('partitions');
  const partitions =
    partitionsField === undefined || partitionsField.value === null
      ? null
      : parsePartitions(partitionsField.value, problems);

  const slaField = top.take('sla');
  const sla = slaField === undefined ? null : positiveDuration(slaField.value, 'sla', problems);
  if (sla !== null && (scheduleField === undefined || scheduleField.value === null))
    problems.push('sla: only for a pipeline with a schedule (it is counted from each scheduled time)');
  const alerts = parseAlerts(top.take('alerts'), problems);

  const stepsField = top.take('steps');
  let steps: Step[] = [];
  if (stepsField === undefined) problems.push('steps: required (a non-empty list)');
  else if (!Array.isArray(stepsField.value)) problems.push(`steps: expected a list, got ${typeName(stepsField.value)}`);
  else if (stepsField.value.length === 0) problems.push('steps: must not be empty');
  else {
    if (stepsField.value.length > MAX_STEPS)
      problems.push(`steps: at most ${MAX_STEPS} steps, got ${stepsField.value.length}`);
    steps = parseSteps(stepsField.value, name, problems);
  }
  top.reportUnknown();

  if (problems.length > 0) throw new PipelineSpecError(problems);
  return { name, description, steps, schedule, partitions, maxActiveRuns, concurrency, sla, alerts };
}

/** `alerts`: destination names (a single name is a list of one); duplicates are dropped. */
function parseAlerts(field: { key: string; value: unknown } | undefined, problems: string[]): string[] {
  if (field === undefined || field.value === null) return [];
  const list = typeof field.value === 'string' ? [field.value] : field.value;
  if (!Array.isArray(list)) {
    problems.push(`alerts: expected a list of alert destination names, got ${typeName(field.value)}`);
    return [];
  }
  const out: string[] = [];
  list.forEach((d, i) => {
    if (typeof d !== 'string' || !DESTINATION_NAME_RE.test(d))
      problems.push(`alerts[${i}]: ${show(d)} must match ${DESTINATION_NAME_RE.source}`);
    else if (!out.includes(d)) out.push(d);
  });
  return out;
}

/**
 * The step ids in an order that runs every step after its upstream steps; among the steps ready at
 * once, declaration order is kept. Throws PipelineSpecError on an unknown dependency or a cycle
 * (which a parsed spec never has).
 */
export function topologicalOrder(steps: Step[]): string[] {
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const waiting = steps.map((s) => new Set(s.dependsOn).size);
  const downstream: number[][] = steps.map(() => []);
  steps.forEach((s, i) => {
    for (const d of new Set(s.dependsOn)) {
      const j = index.get(d);
      if (j === undefined) throw new PipelineSpecError([`steps[${i}].depends_on: unknown step "${d}"`]);
      downstream[j]!.push(i);
    }
  });
  // few steps (<= 500): a sorted array of ready indexes is simpler than a heap and fast enough
  const ready = waiting.flatMap((w, i) => (w === 0 ? [i] : []));
  const order: string[] = [];
  while (ready.length > 0) {
    const i = ready.shift()!;
    order.push(steps[i]!.id);
    for (const j of downstream[i]!) {
      if (--waiting[j]! === 0) ready.splice(sortedIndex(ready, j), 0, j);
    }
  }
  if (order.length < steps.length) {
    const stuck = steps.filter((_, i) => waiting[i]! > 0).map((s) => `"${s.id}"`);
    throw new PipelineSpecError([`steps: not a DAG (in or after a cycle: ${stuck.join(', ')})`]);
  }
  return order;
}

/**
 * The export steps that write PII columns in clear (`pii: clear`), each as `step "<id>"
 * (steps[<i>])`: what only an admin key may define.
 */
export function clearPiiSteps(spec: Pick<PipelineSpec, 'steps'>): string[] {
  return spec.steps.flatMap((s, i) =>
    s.kind === 'export' && s.pii === 'clear' ? [`step "${s.id}" (steps[${i}])`] : [],
  );
}

// ---- steps ----

function parseSteps(rawSteps: unknown[], pipelineName: string, problems: string[]): Step[] {
  const steps: Step[] = [];
  const firstIndex = new Map<string, number>();
  /** Raw dependencies by step index, checked once every id is known. */
  const deps: { path: string; ids: string[] }[] = [];

  rawSteps.forEach((rawStep, i) => {
    const path = `steps[${i}]`;
    if (!isObject(rawStep)) {
      problems.push(`${path}: expected an object, got ${typeName(rawStep)}`);
      deps.push({ path, ids: [] });
      return;
    }
    const f = new Fields(rawStep, path, problems);

    const idField = f.take('id');
    let id = '';
    if (idField === undefined) problems.push(`${path}.id: required`);
    else if (typeof idField.value !== 'string' || !STEP_ID_RE.test(idField.value))
      problems.push(`${path}.id: ${show(idField.value)} must match ${STEP_ID_RE.source}`);
    else {
      id = idField.value;
      const first = firstIndex.get(id);
      if (first !== undefined) problems.push(`${path}.id: duplicate id "${id}" (also steps[${first}])`);
      else firstIndex.set(id, i);
    }

    const kindField = f.take('kind');
    let kind: StepKind | null = null;
    if (kindField === undefined) problems.push(`${path}.kind: required (one of ${STEP_KINDS.join(', ')})`);
    else if (!(STEP_KINDS as readonly unknown[]).includes(kindField.value))
      problems.push(`${path}.kind: unknown kind ${show(kindField.value)} (one of ${STEP_KINDS.join(', ')})`);
    else kind = kindField.value as StepKind;

    const depField = f.take('depends_on', 'dependsOn');
    const dependsOn: string[] = [];
    if (depField !== undefined && depField.value !== null) {
      const dPath = `${path}.${depField.key}`;
      const list = typeof depField.value === 'string' ? [depField.value] : depField.value;
      if (!Array.isArray(list)) problems.push(`${dPath}: expected a step id or a list of them`);
      else
        list.forEach((d, j) => {
          if (typeof d !== 'string') problems.push(`${dPath}[${j}]: expected a step id, got ${typeName(d)}`);
          else if (!dependsOn.includes(d)) dependsOn.push(d);
        });
      deps.push({ path: dPath, ids: dependsOn });
    } else deps.push({ path: `${path}.depends_on`, ids: dependsOn });

    const retriesField = f.take('retries');
    const retries =
      retriesField === undefined
        ? { ...DEFAULT_RETRY_POLICY }
        : parseRetries(retriesField.value, `${path}.retries`, problems);

    const timeoutField = f.take('timeout', 'timeoutMs');
    const timeoutMs =
      timeoutField === undefined ? null : positiveDuration(timeoutField.value, `${path}.timeout`, problems);

    const ruleField = f.take('trigger_rule', 'triggerRule');
    let triggerRule: TriggerRule = 'all_success';
    if (ruleField !== undefined) {
      if ((TRIGGER_RULES as readonly unknown[]).includes(ruleField.value)) triggerRule = ruleField.value as TriggerRule;
      else
        problems.push(
          `${path}.${ruleField.key}: unknown trigger rule ${show(ruleField.value)} (one of ${TRIGGER_RULES.join(', ')})`,
        );
    }

    const poolField = f.take('pool');
    let pool: string | null = null;
    if (poolField !== undefined && poolField.value !== null) {
      if (typeof poolField.value === 'string' && POOL_RE.test(poolField.value)) pool = poolField.value;
      else problems.push(`${path}.pool: ${show(poolField.value)} must match ${POOL_RE.source} or be null`);
    }

    const base = { id, dependsOn, retries, timeoutMs, triggerRule, pool };
    const step = kind === null ? null : parseKindFields(kind, base, f, path, pipelineName, problems);
    // an unknown kind has no key set to check against: only keys no kind knows are reported
    f.reportUnknown(kind === null ? ALL_KIND_KEYS : undefined, kind ?? undefined);
    if (step !== null) steps.push(step);
  });

  deps.forEach(({ path, ids }, i) => {
    const own = (rawSteps[i] as { id?: unknown } | null)?.id;
    for (const d of ids) {
      if (d === own) problems.push(`${path}: a step cannot depend on itself`);
      else if (!firstIndex.has(d)) problems.push(`${path}: unknown step "${d}"`);
    }
  });
  problems.push(...findCycles(rawSteps, firstIndex, deps));
  return steps;
}

type StepBaseFields = Pick<Step, 'id' | 'dependsOn' | 'retries' | 'timeoutMs' | 'triggerRule' | 'pool'>;

const KIND_KEYS: Record<StepKind, readonly (readonly string[])[]> = {
  ingest: [['source'], ['path'], ['skip_loaded', 'skipLoaded']],
  build: [['project'], ['select'], ['full_refresh', 'fullRefresh']],
  check: [['suite']],
  sql: [['sql']],
  wait_for: [['pipeline'], ['dataset'], ['fresh_within', 'freshWithin', 'freshWithinMs'], ['wait', 'waitMs']],
  pipeline: [['pipeline']],
  export: [['dataset'], ['target'], ['partition_by', 'partitionBy'], ['compression'], ['incremental'], ['pii']],
};
const ALL_KIND_KEYS = [...new Set(Object.values(KIND_KEYS).flat(2))];

function parseKindFields(
  kind: StepKind,
  base: StepBaseFields,
  f: Fields,
  path: string,
  pipelineName: string,
  problems: string[],
): Step | null {
  const before = problems.length;
  let step: Step;
  switch (kind) {
    case 'ingest': {
      const sl = f.take('skip_loaded', 'skipLoaded');
      let skipLoaded = false;
      if (sl !== undefined && sl.value !== null) {
        if (typeof sl.value === 'boolean') skipLoaded = sl.value;
        else problems.push(`${path}.${sl.key}: expected true or false, got ${show(sl.value)}`);
      }
      step = {
        ...base,
        kind,
        source: requiredString(f, 'source', path, problems),
        path: optionalString(f, 'path', path, problems),
        ...(skipLoaded ? { skipLoaded } : {}),
      };
      break;
    }
    case 'build': {
      const fr = f.take('full_refresh', 'fullRefresh');
      let fullRefresh = false;
      if (fr !== undefined && fr.value !== null) {
        if (typeof fr.value === 'boolean') fullRefresh = fr.value;
        else problems.push(`${path}.${fr.key}: expected true or false, got ${show(fr.value)}`);
      }
      step = {
        ...base,
        kind,
        project: requiredString(f, 'project', path, problems),
        select: optionalString(f, 'select', path, problems),
        fullRefresh,
      };
      break;
    }
    case 'check':
      step = { ...base, kind, suite: requiredString(f, 'suite', path, problems) };
      break;
    case 'export': {
      const pb = f.take('partition_by', 'partitionBy');
      let partitionBy: string[] = [];
      if (pb !== undefined && pb.value !== null) {
        if (Array.isArray(pb.value) && pb.value.every((c) => typeof c === 'string' && c.length > 0))
          partitionBy = pb.value as string[];
        else problems.push(`${path}.${pb.key}: expected a list of column names, got ${show(pb.value)}`);
      }
      const inc = f.take('incremental');
      let incremental = false;
      if (inc !== undefined && inc.value !== null) {
        if (typeof inc.value === 'boolean') incremental = inc.value;
        else problems.push(`${path}.incremental: expected true or false, got ${show(inc.value)}`);
      }
      const piiField = f.take('pii');
      let clear = false;
      if (piiField !== undefined && piiField.value !== null) {
        if (piiField.value === 'clear') clear = true;
        else if (piiField.value !== 'masked')
          problems.push(`${path}.pii: ${show(piiField.value)} must be one of masked, clear`);
      }
      step = {
        ...base,
        kind,
        dataset: requiredString(f, 'dataset', path, problems),
        target: exportTarget(requiredString(f, 'target', path, problems), path, problems),
        partitionBy,
        compression: optionalString(f, 'compression', path, problems),
        incremental,
        // only when clear: a definition without it (every one made before the option) stays the same
        ...(clear ? { pii: 'clear' as const } : {}),
      };
      break;
    }
    case 'sql':
      step = { ...base, kind, sql: requiredString(f, 'sql', path, problems) };
      break;
    case 'wait_for': {
      const pipelineField = f.take('pipeline');
      const datasetField = f.take('dataset');
      const hasPipeline = pipelineField !== undefined && pipelineField.value !== null;
      const hasDataset = datasetField !== undefined && datasetField.value !== null;
      let pipeline: string | null = null;
      let dataset: string | null = null;
      if (hasPipeline === hasDataset)
        problems.push(`${path}: a wait_for step needs exactly one of pipeline or dataset`);
      if (hasPipeline) pipeline = pipelineRef(pipelineField.value, `${path}.pipeline`, pipelineName, problems);
      if (hasDataset) {
        if (typeof datasetField.value === 'string' && datasetField.value.trim() !== '') dataset = datasetField.value;
        else problems.push(`${path}.dataset: expected a non-empty string, got ${show(datasetField.value)}`);
      }
      const freshField = f.take('fresh_within', 'freshWithin', 'freshWithinMs');
      let freshWithinMs: number | null = null;
      if (freshField !== undefined && freshField.value !== null) {
        freshWithinMs = positiveDuration(freshField.value, `${path}.${freshField.key}`, problems);
      }
      const waitField = f.take('wait', 'waitMs');
      const waitMs = (waitField && positiveDuration(waitField.value, `${path}.wait`, problems)) ?? DEFAULT_WAIT_MS;
      step = { ...base, kind, pipeline, dataset, freshWithinMs, waitMs };
      break;
    }
    case 'pipeline': {
      const field = f.take('pipeline');
      let pipeline = '';
      if (field === undefined || field.value === null) problems.push(`${path}.pipeline: required`);
      else pipeline = pipelineRef(field.value, `${path}.pipeline`, pipelineName, problems) ?? '';
      step = { ...base, kind, pipeline };
      break;
    }
  }
  return problems.length > before ? null : step;
}

/** A pipeline named by a step: a valid name, and not the pipeline itself (it would wait on itself). */
function pipelineRef(v: unknown, path: string, self: string, problems: string[]): string | null {
  if (typeof v !== 'string' || !PIPELINE_NAME_RE.test(v)) {
    problems.push(`${path}: ${show(v)} must be a pipeline name matching ${PIPELINE_NAME_RE.source}`);
    return null;
  }
  if (v === self) {
    problems.push(`${path}: a pipeline cannot run or wait for itself ("${v}")`);
    return null;
  }
  return v;
}

/**
 * An export target climbing out of where it is taken from (`../x`, `a/../../x`, `..` in an S3
 * prefix) is refused when the pipeline is defined, not at its first run; absolute folders are
 * checked against the export root when the step runs.
 */
function exportTarget(target: string, path: string, problems: string[]): string {
  const s3 = /^s3:\/\/[^/]*\/?(.*)$/.exec(target);
  const segments = (s3 ? s3[1] : target).split(/[\\/]+/);
  let depth = 0;
  for (const seg of segments) {
    if (seg === '..') depth--;
    else if (seg !== '' && seg !== '.') depth++;
    if (depth < 0 || (s3 && (seg === '..' || seg === '.'))) {
      problems.push(`${path}.target: ${target} climbs out of the export root (no ..)`);
      break;
    }
  }
  return target;
}

function requiredString(f: Fields, key: string, path: string, problems: string[]): string {
  const field = f.take(key);
  if (field === undefined || field.value === null) problems.push(`${path}.${key}: required`);
  else if (typeof field.value !== 'string' || field.value.trim() === '')
    problems.push(`${path}.${key}: expected a non-empty string, got ${show(field.value)}`);
  else return field.value;
  return '';
}

function optionalString(f: Fields, key: string, path: string, problems: string[]): string | null {
  const field = f.take(key);
  if (field === undefined || field.value === null) return null;
  if (typeof field.value === 'string' && field.value.trim() !== '') return field.value;
  problems.push(`${path}.${key}: expected a non-empty string or null, got ${show(field.value)}`);
  return null;
}

function parseRetries(v: unknown, path: string, problems: string[]): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY };
  if (v === null) return policy;
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= MAX_ATTEMPTS - 1) policy.maxAttempts = v + 1;
    else problems.push(`${path}: ${v} must be a whole number 0..${MAX_ATTEMPTS - 1} (retries after the first attempt)`);
    return policy;
  }
  if (!isObject(v)) {
    problems.push(`${path}: expected a number of retries or {max_attempts, base_delay, max_delay}, got ${typeName(v)}`);
    return policy;
  }
  const f = new Fields(v, path, problems);
  const attempts = f.take('max_attempts', 'maxAttempts');
  if (attempts !== undefined) {
    const n = attempts.value;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_ATTEMPTS) policy.maxAttempts = n;
    else problems.push(`${path}.${attempts.key}: ${show(n)} must be a whole number 1..${MAX_ATTEMPTS}`);
  }
  const base = f.take('base_delay', 'baseDelay', 'baseDelayMs');
  const baseMs = base === undefined ? null : parseDuration(base.value, `${path}.${base.key}`, problems);
  if (baseMs !== null) policy.baseDelayMs = baseMs;
  const max = f.take('max_delay', 'maxDelay', 'maxDelayMs');
  const maxMs = max === undefined ? null : parseDuration(max.value, `${path}.${max.key}`, problems);
  if (maxMs !== null) {
    policy.maxDelayMs = maxMs;
    if (maxMs < policy.baseDelayMs)
      problems.push(`${path}.${max!.key}: ${maxMs} ms is below the base delay (${policy.baseDelayMs} ms)`);
  } else if (policy.baseDelayMs > policy.maxDelayMs) {
    // a base above the default ceiling raises the ceiling rather than being silently capped
    policy.maxDelayMs = policy.baseDelayMs;
  }
  f.reportUnknown();
  return policy;
}

function positiveDuration(v: unknown, path: string, problems: string[]): number | null {
  const before = problems.length;
  const ms = parseDuration(v, path, problems);
  if (ms === 0) problems.push(`${path}: must be more than 0`);
  return problems.length > before ? null : ms;
}

/**
 * Each cycle of the dependency graph once, as `cycle: a -> b -> a` (upstream before downstream):
 * one per strongly connected component, the shortest cycle through its earliest-declared step.
 * Self-dependencies are reported elsewhere and unknown ids are left out.
 */
function findCycles(rawSteps: unknown[], firstIndex: Map<string, number>, deps: { ids: string[] }[]): string[] {
  const n = rawSteps.length;
  const downstream: number[][] = Array.from({ length: n }, () => []);
  deps.forEach(({ ids }, i) => {
    const id = (rawSteps[i] as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || firstIndex.get(id) !== i) return; // bad or duplicate ids: no edges
    for (const d of ids) {
      const j = firstIndex.get(d);
      if (j !== undefined && j !== i) downstream[j]!.push(i);
    }
  });
  for (const list of downstream) list.sort((a, b) => a - b);

  const components = stronglyConnected(downstream).filter((c) => c.length > 1);
  components.sort((a, b) => Math.min(...a) - Math.min(...b));
  const idOf = (i: number) => (rawSteps[i] as { id: string }).id;
  return components.map((component) => {
    const members = new Set(component);
    const start = Math.min(...component);
    // breadth-first within the component, back to the start
    const prev = new Map<number, number>();
    const queue = [start];
    let last = -1;
    for (let q = 0; q < queue.length && last < 0; q++) {
      const at = queue[q]!;
      for (const next of downstream[at]!) {
        if (!members.has(next)) continue;
        if (next === start) {
          last = at;
          break;
        }
        if (!prev.has(next)) {
          prev.set(next, at);
          queue.push(next);
        }
      }
    }
    const path = [start];
    for (let at = last; at !== start; at = prev.get(at)!) path.splice(1, 0, at);
    path.push(start);
    return `cycle: ${path.map(idOf).join(' -> ')}`;
  });
}

/** Tarjan's strongly connected components, iteratively (500 steps would be fine recursively, but need not be). */
function stronglyConnected(edges: number[][]): number[][] {
  const n = edges.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const out: number[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: { v: number; e: number }[] = [{ v: root, e: 0 }];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const { v } = frame;
      if (frame.e < edges[v]!.length) {
        const w = edges[v]![frame.e++]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = true;
          work.push({ v: w, e: 0 });
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.v;
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === index[v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          component.push(w);
        } while (w !== v);
        out.push(component);
      }
    }
  }
  return out;
}

// ---- schedule and partitions ----

function parseSchedule(v: unknown, problems: string[]): Schedule | null {
  const schedule: Schedule = { cron: null, everyMs: null, timezone: 'UTC', catchup: 'none' };
  if (typeof v === 'string') {
    schedule.cron = checkCron(v, 'UTC', 'schedule', problems);
    return schedule;
  }
  if (!isObject(v)) {
    problems.push(`schedule: expected a cron string or {cron | every, timezone, catchup}, got ${typeName(v)}`);
    return null;
  }
  const f = new Fields(v, 'schedule', problems);
  const tz = f.take('timezone');
  let tzOk = true;
  if (tz !== undefined && tz.value !== null) {
    if (typeof tz.value === 'string' && knownTimeZone(tz.value)) schedule.timezone = tz.value;
    else {
      tzOk = false;
      problems.push(
        typeof tz.value === 'string'
          ? `schedule.timezone: unknown time zone "${tz.value}"`
          : `schedule.timezone: expected an IANA time zone name, got ${typeName(tz.value)}`,
      );
    }
  }
  const cron = f.take('cron');
  const every = f.take('every', 'everyMs');
  const hasCron = cron !== undefined && cron.value !== null;
  const hasEvery = every !== undefined && every.value !== null;
  const datasets = f.take('datasets');
  const hasDatasets = datasets !== undefined && datasets.value !== null;
  if ([hasCron, hasEvery, hasDatasets].filter(Boolean).length !== 1)
    problems.push('schedule: give exactly one of cron, every or datasets');
  if (hasDatasets) {
    const names = datasets.value;
    if (!Array.isArray(names) || names.length === 0 || names.length > MAX_TRIGGER_DATASETS)
      problems.push(
        `schedule.datasets: expected a list of 1 to ${MAX_TRIGGER_DATASETS} dataset names, got ${Array.isArray(names) ? `${names.length} names` : typeName(names)}`,
      );
    else {
      names.forEach((n, i) => {
        if (typeof n !== 'string' || !DATASET_NAME_RE.test(n))
          problems.push(`schedule.datasets[${i}]: ${show(n)} is not a dataset name (${DATASET_NAME_RE.source})`);
      });
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      if (dup !== undefined) problems.push(`schedule.datasets: ${show(dup)} is listed twice`);
      schedule.datasets = names.filter((n): n is string => typeof n === 'string');
      schedule.when = 'all';
    }
  }
  const when = f.take('when');
  if (when !== undefined && when.value !== null) {
    if (!hasDatasets) problems.push('schedule.when: only with datasets');
    else if (when.value === 'all' || when.value === 'any') schedule.when = when.value;
    else problems.push(`schedule.when: ${show(when.value)} must be one of all, any`);
  }
  if (hasCron) {
    if (typeof cron.value !== 'string') problems.push(`schedule.cron: expected a string, got ${typeName(cron.value)}`);
    // with a bad zone the cron is still checked, in UTC, so both problems show at once
    else schedule.cron = checkCron(cron.value, tzOk ? schedule.timezone : 'UTC', 'schedule.cron', problems);
  }
  if (hasEvery) {
    const ms = positiveDuration(every.value, 'schedule.every', problems);
    if (ms !== null && ms < MIN_EVERY_MS) problems.push(`schedule.every: at least ${MIN_EVERY_MS} ms, got ${ms}`);
    else schedule.everyMs = ms;
  }
  const catchup = f.take('catchup');
  if (catchup !== undefined && catchup.value !== null) {
    if ((CATCHUP as readonly unknown[]).includes(catchup.value))
      schedule.catchup = catchup.value as Schedule['catchup'];
    else problems.push(`schedule.catchup: ${show(catchup.value)} must be one of ${CATCHUP.join(', ')}`);
  }
  f.reportUnknown();
  return schedule;
}

/** The five-field cron (aliases mapped), or null with a problem naming the expression. */
function checkCron(expr: string, timezone: string, path: string, problems: string[]): string | null {
  const trimmed = expr.trim().replace(/\s+/g, ' ');
  const cron = CRON_ALIASES[trimmed.toLowerCase()] ?? trimmed;
  const bad = (reason: string) => {
    problems.push(`${path}: bad cron "${expr}": ${reason}`);
    return null;
  };
  if (cron.startsWith('@')) return bad(`unknown alias (one of ${Object.keys(CRON_ALIASES).join(', ')})`);
  const fields = cron === '' ? 0 : cron.split(' ').length;
  if (fields !== 5 && fields !== 6)
    return bad(
      `expected 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first, got ${fields}`,
    );
  try {
    new CronTime(cron, timezone);
  } catch (e) {
    return bad(e instanceof Error ? e.message : String(e));
  }
  // one that never fires, or fires too often, is well formed: scheduleRefusal (422) says so
  return cron;
}

/**
 * The schedule of a definition that has problems elsewhere, when the schedule itself has none
 * (so its refusal, if any, is listed with them), else null.
 */
export function scheduleOf(raw: unknown): Schedule | null {
  if (!isObject(raw) || raw['schedule'] === undefined || raw['schedule'] === null) return null;
  const problems: string[] = [];
  const schedule = parseSchedule(raw['schedule'], problems);
  return problems.length ? null : schedule;
}

function knownTimeZone(tz: string): boolean {
  try {
    Intl.DateTimeFormat(undefined, { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function parsePartitions(v: unknown, problems: string[]): Partitions | null {
  if (!isObject(v)) {
    problems.push(`partitions: expected {kind, start} or {kind: static, values}, got ${typeName(v)}`);
    return null;
  }
  const f = new Fields(v, 'partitions', problems);
  const before = problems.length;
  const kindField = f.take('kind');
  const startField = f.take('start');
  const valuesField = f.take('values');
  f.reportUnknown();
  const kind = kindField?.value;
  if (kind === undefined || kind === null) {
    problems.push(`partitions.kind: required (one of ${PARTITION_KINDS.join(', ')})`);
    return null;
  }
  if (!(PARTITION_KINDS as readonly unknown[]).includes(kind)) {
    problems.push(`partitions.kind: ${show(kind)} must be one of ${PARTITION_KINDS.join(', ')}`);
    return null;
  }
  const partitions: Partitions = { kind: kind as Partitions['kind'], start: null, values: null };
  if (kind === 'static') {
    if (startField !== undefined && startField.value !== null)
      problems.push('partitions.start: only for hourly, daily and monthly partitions');
    partitions.values = staticValues(valuesField?.value, problems);
  } else {
    if (valuesField !== undefined && valuesField.value !== null)
      problems.push('partitions.values: only for static partitions');
    partitions.start = isoStart(startField?.value, problems);
  }
  return problems.length > before ? null : partitions;
}

function isoStart(v: unknown, problems: string[]): string | null {
  // a YAML loader with the timestamp type gives a Date
  if (v instanceof Date) {
    if (!Number.isNaN(v.getTime())) return v.toISOString();
    problems.push('partitions.start: invalid date');
    return null;
  }
  if (v === undefined || v === null) {
    problems.push('partitions.start: required (an ISO date, e.g. "2024-01-01")');
    return null;
  }
  const m = typeof v === 'string' ? ISO_DATE_RE.exec(v) : null;
  if (m) {
    const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1) as (string | undefined)[];
    const date = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s));
    const real =
      date.getUTCFullYear() === +y! &&
      date.getUTCMonth() === +mo! - 1 &&
      date.getUTCDate() === +d! &&
      +h < 24 &&
      +mi < 60 &&
      +s < 60;
    if (real) return v as string;
  }
  problems.push(`partitions.start: ${show(v)} is not an ISO date (e.g. "2024-01-01" or "2024-01-01T00:00:00Z")`);
  return null;
}

function staticValues(v: unknown, problems: string[]): string[] | null {
  if (!Array.isArray(v) || v.length === 0) {
    problems.push('partitions.values: required, a non-empty list of partition keys');
    return null;
  }
  const seen = new Map<string, number>();
  v.forEach((x, i) => {
    const path = `partitions.values[${i}]`;
    if (typeof x !== 'string' || !PARTITION_VALUE_RE.test(x) || x.includes('..'))
      problems.push(`${path}: ${show(x)} must match ${PARTITION_VALUE_RE.source} without ".."`);
    else if (seen.has(x)) problems.push(`${path}: duplicate value "${x}" (also values[${seen.get(x)}])`);
    else seen.set(x, i);
  });
  return v as string[];
}

// ---- helpers ----

function intField(
  field: { key: string; value: unknown } | undefined,
  min: number,
  max: number,
  dflt: number,
  problems: string[],
): number {
  if (field === undefined || field.value === null) return dflt;
  const n = field.value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n;
  problems.push(`${field.key}: ${show(n)} must be a whole number ${min}..${max}`);
  return dflt;
}

/**
 * The keys of one raw object: each taken under any of its spellings (snake_case or camelCase);
 * both spellings at once, or a key nobody took, is a problem.
 */
class Fields {
  private readonly taken = new Set<string>();
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly path: string,
    private readonly problems: string[],
  ) {}

  take(...spellings: string[]): { key: string; value: unknown } | undefined {
    const present = spellings.filter((k) => Object.prototype.hasOwnProperty.call(this.obj, k));
    spellings.forEach((k) => this.taken.add(k));
    if (present.length > 1)
      this.problems.push(`${this.path}: both ${present.map((k) => `"${k}"`).join(' and ')} given; use one`);
    if (present.length === 0) return undefined;
    const key = present[0]!;
    return { key, value: this.obj[key] };
  }

  /** Reports each key not taken; `alsoKnown` are keys to let pass, `kind` names the step kind in the message. */
  reportUnknown(alsoKnown: readonly string[] = [], kind?: string): void {
    const known = [...this.taken];
    for (const key of Object.keys(this.obj)) {
      if (this.taken.has(key) || alsoKnown.includes(key)) continue;
      if (kind !== undefined && ALL_KIND_KEYS.includes(key)) {
        this.problems.push(`${this.path}: key "${key}" does not apply to kind "${kind}"`);
        continue;
      }
      const near = known.find((k) => editDistance(k, key) <= 2);
      this.problems.push(`${this.path}: unknown key "${key}"${near ? ` (did you mean "${near}"?)` : ''}`);
    }
  }
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function sortedIndex(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${show(v)}`;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (v === undefined) return 'nothing';
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'a list' : 'an object';
  return String(v);
}
