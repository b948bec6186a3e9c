/**
 * Validation of OpenLineage events (spec 2-0-2) against Weir's own schema
 * ({@link openLineageSchema}), for `POST /api/v1/lineage`: the kind (RunEvent, DatasetEvent,
 * JobEvent) is decided first from the event's keys, as the spec tells them apart, then the event
 * is validated against that kind's schema only, so the errors read as the kind's errors.
 *
 * Ajv is compiled once, at module load. Formats come from ajv-formats: `uuid` as is; `date-time`
 * as RFC 3339 with a timezone, and the offset in the RFC's `+hh:mm` form; `uri` in full mode
 * for strings up to 2,048 characters, beyond that in ajv-formats' linear "fast" mode (the full
 * regex overflows the stack on multi-megabyte strings).
 *
 * Errors: JSON-pointer paths (`/run/runId`); a missing property is reported at its own path
 * (`/eventTime`, keyword `required`). At most {@link MAX_ERRORS} are returned. Events of more than
 * {@link ALL_ERRORS_NODE_LIMIT} JSON values are reported with their first error only, so a huge,
 * thoroughly broken event cannot make millions of error objects.
 */
import Ajv, { type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fastFormats, fullFormats } from 'ajv-formats/dist/formats';
import { OPENLINEAGE_EVENT_REFS, OPENLINEAGE_EVENT_TYPES, openLineageSchema } from './openlineage-schema';

// ---------------------------------------------------------------- event shapes

/** The event kinds of spec 2-0-2. */
export type OpenLineageKind = 'RunEvent' | 'DatasetEvent' | 'JobEvent';
/** A RunEvent's eventType. */
export type OpenLineageEventType = (typeof OPENLINEAGE_EVENT_TYPES)[number];

/** The fields every facet carries (BaseFacet); a facet may carry any other property. */
export interface OLBaseFacet {
  _producer: string;
  _schemaURL: string;
  [key: string]: unknown;
}
/** A job or dataset facet that is not a deletion. */
export interface OLLiveFacet extends OLBaseFacet {
  _deleted?: false;
}
/** A job or dataset facet sent with `_deleted: true`: only the base fields are guaranteed. */
export interface OLDeletedFacet extends OLBaseFacet {
  _deleted: true;
}
/** A job or dataset facet as received: live, or a deletion. */
export type OLDeletable<F extends OLLiveFacet> = F | OLDeletedFacet;

/** SchemaDatasetFacet 1-2-0 field (nested `fields` for structs, arrays, unions). */
export interface OLSchemaField {
  name: string;
  type?: string;
  description?: string;
  ordinal_position?: number;
  fields?: OLSchemaField[];
}
export interface OLSchemaDatasetFacet extends OLLiveFacet {
  fields?: OLSchemaField[];
}
/** A transformation of a column lineage input field (type: DIRECT | INDIRECT, not enforced by the spec). */
export interface OLTransformation {
  type: string;
  subtype?: string;
  description?: string;
  masking?: boolean;
}
/** ColumnLineageDatasetFacet 1-2-0 InputField: one input column an output column depends on. */
export interface OLInputField {
  namespace: string;
  name: string;
  field: string;
  transformations?: OLTransformation[];
}
export interface OLColumnLineageField {
  inputFields: OLInputField[];
  /** @deprecated since ColumnLineageDatasetFacet 1-2-0 */
  transformationDescription?: string;
  /** @deprecated since ColumnLineageDatasetFacet 1-2-0 */
  transformationType?: string;
}
export interface OLColumnLineageDatasetFacet extends OLLiveFacet {
  /** output column → the input columns it is computed from */
  fields: Record<string, OLColumnLineageField>;
  /** inputs that affect the whole dataset (filters, joins, grouping, sorting, …) */
  dataset?: OLInputField[];
}
export interface OLColumnMetrics {
  nullCount?: number;
  distinctCount?: number;
  sum?: number;
  count?: number;
  min?: number;
  max?: number;
  /** quantile ("0.1", "0.5", …) → value */
  quantiles?: Record<string, number>;
}
/** DataQualityMetricsInputDatasetFacet 1-0-3 (also DataQualityMetricsDatasetFacet 1-0-0). */
export interface OLDataQualityMetricsFacet extends OLLiveFacet {
  rowCount?: number;
  bytes?: number;
  fileCount?: number;
  lastUpdated?: string;
  columnMetrics: Record<string, OLColumnMetrics>;
}
export interface OLDataQualityAssertion {
  assertion: string;
  success: boolean;
  column?: string;
  severity?: string;
  name?: string;
  description?: string;
  expected?: string;
  actual?: string;
  content?: string;
  contentType?: string;
  params?: Record<string, unknown>;
}
/** DataQualityAssertionsDatasetFacet 1-1-0. */
export interface OLDataQualityAssertionsFacet extends OLLiveFacet {
  assertions: OLDataQualityAssertion[];
}
export interface OLDocumentationFacet extends OLLiveFacet {
  description: string;
  contentType?: string;
}
export interface OLOwnershipFacet extends OLLiveFacet {
  owners?: { name: string; type?: string }[];
}
export interface OLSymlinksDatasetFacet extends OLLiveFacet {
  identifiers?: { namespace: string; name: string; type: string }[];
}
export interface OLDatasourceDatasetFacet extends OLLiveFacet {
  name?: string;
  uri?: string;
}
export interface OLStatisticsFacet extends OLBaseFacet {
  rowCount?: number;
  size?: number;
  fileCount?: number;
}
export interface OLSqlJobFacet extends OLLiveFacet {
  query: string;
  dialect?: string;
}
export interface OLJobTypeJobFacet extends OLLiveFacet {
  processingType: string;
  integration: string;
  jobType?: string;
  emissionPattern?: { eventTrigger: string; eventContentMode: string; windowDuration?: number };
}
export interface OLParentRunFacet extends OLBaseFacet {
  run: { runId: string; facets?: Record<string, OLBaseFacet> };
  job: { namespace: string; name: string; facets?: Record<string, OLBaseFacet> };
  root?: {
    run: { runId: string; facets?: Record<string, OLBaseFacet> };
    job: { namespace: string; name: string; facets?: Record<string, OLBaseFacet> };
  };
}
export interface OLErrorMessageRunFacet extends OLBaseFacet {
  message: string;
  programmingLanguage: string;
  stackTrace?: string;
}
export interface OLNominalTimeRunFacet extends OLBaseFacet {
  nominalStartTime: string;
  nominalEndTime?: string;
}

/** Run facets: the known ones typed, any other key a base facet. */
export interface OLRunFacets {
  nominalTime?: OLNominalTimeRunFacet;
  parent?: OLParentRunFacet;
  errorMessage?: OLErrorMessageRunFacet;
  [key: string]: OLBaseFacet | undefined;
}
/** Job facets: the known ones typed, any other key a (possibly deleted) base facet. */
export interface OLJobFacets {
  sql?: OLDeletable<OLSqlJobFacet>;
  jobType?: OLDeletable<OLJobTypeJobFacet>;
  documentation?: OLDeletable<OLDocumentationFacet>;
  ownership?: OLDeletable<OLOwnershipFacet>;
  [key: string]: OLLiveFacet | OLDeletedFacet | undefined;
}
/** Dataset facets: the known ones typed, any other key a (possibly deleted) base facet. */
export interface OLDatasetFacets {
  schema?: OLDeletable<OLSchemaDatasetFacet>;
  columnLineage?: OLDeletable<OLColumnLineageDatasetFacet>;
  dataSource?: OLDeletable<OLDatasourceDatasetFacet>;
  documentation?: OLDeletable<OLDocumentationFacet>;
  ownership?: OLDeletable<OLOwnershipFacet>;
  symlinks?: OLDeletable<OLSymlinksDatasetFacet>;
  dataQualityMetrics?: OLDeletable<OLDataQualityMetricsFacet>;
  /** an input-dataset facet in the spec; dbt sends it as a dataset facet */
  dataQualityAssertions?: OLDeletable<OLDataQualityAssertionsFacet>;
  [key: string]: OLLiveFacet | OLDeletedFacet | undefined;
}
export interface OLInputDatasetFacets {
  dataQualityMetrics?: OLDataQualityMetricsFacet;
  dataQualityAssertions?: OLDataQualityAssertionsFacet;
  inputStatistics?: OLStatisticsFacet;
  [key: string]: OLBaseFacet | undefined;
}
export interface OLOutputDatasetFacets {
  outputStatistics?: OLStatisticsFacet;
  [key: string]: OLBaseFacet | undefined;
}

export interface OLRun {
  runId: string;
  facets?: OLRunFacets;
}
export interface OLJob {
  namespace: string;
  name: string;
  facets?: OLJobFacets;
}
/** A dataset (also the StaticDataset of a DatasetEvent). */
export interface OLDataset {
  namespace: string;
  name: string;
  facets?: OLDatasetFacets;
}
export interface OLInputDataset extends OLDataset {
  inputFacets?: OLInputDatasetFacets;
}
export interface OLOutputDataset extends OLDataset {
  outputFacets?: OLOutputDatasetFacets;
}
export interface OpenLineageBaseEvent {
  /** RFC 3339 date-time with a timezone */
  eventTime: string;
  producer: string;
  schemaURL: string;
}
export interface OpenLineageRunEvent extends OpenLineageBaseEvent {
  eventType?: OpenLineageEventType;
  run: OLRun;
  job: OLJob;
  inputs?: OLInputDataset[];
  outputs?: OLOutputDataset[];
}
export interface OpenLineageDatasetEvent extends OpenLineageBaseEvent {
  dataset: OLDataset;
}
export interface OpenLineageJobEvent extends OpenLineageBaseEvent {
  job: OLJob;
  inputs?: OLInputDataset[];
  outputs?: OLOutputDataset[];
}
/** The shape of each kind, to narrow a validated event: `event as OpenLineageEventByKind[result.kind]`. */
export interface OpenLineageEventByKind {
  RunEvent: OpenLineageRunEvent;
  DatasetEvent: OpenLineageDatasetEvent;
  JobEvent: OpenLineageJobEvent;
}
export type OpenLineageEvent = OpenLineageRunEvent | OpenLineageDatasetEvent | OpenLineageJobEvent;

// ---------------------------------------------------------------- validation

/** One schema error: where (JSON pointer), what (readable), which keyword failed. */
export interface OpenLineageSchemaError {
  path: string;
  message: string;
  keyword: string;
}
/**
 * A deviation the lenient mode accepts: a `format` that does not hold (the JSON Schema 2020-12
 * spec makes formats annotations, and Marquez accepts them) or a missing `schemaURL` (pre-2.0
 * clients). `kind`: `format:uri`, `format:uuid`, `format:date-time`, `schemaURL:missing`.
 */
export interface OpenLineageWarning {
  kind: string;
  path: string;
  message: string;
}
export type OpenLineageValidation =
  | { ok: true; kind: OpenLineageKind; warnings: OpenLineageWarning[] }
  | { ok: false; kind?: OpenLineageKind; errors: OpenLineageSchemaError[] };

/** The most errors returned for one event (the last one says how many more there were). */
export const MAX_ERRORS = 50;
/** Above this many JSON values an invalid event is reported with its first error only. */
export const ALL_ERRORS_NODE_LIMIT = 20_000;
const FULL_URI_MAX_LENGTH = 2048;

type StringCheck = (s: string) => boolean;
/** A format of ajv-formats as a plain predicate (they come as functions, regexps or {validate}). */
function predicate(format: unknown): StringCheck {
  if (typeof format === 'function') return format as StringCheck;
  if (format instanceof RegExp) return (s) => format.test(s);
  if (format && typeof format === 'object' && 'validate' in format)
    return predicate((format as { validate: unknown }).validate);
  throw new Error('unsupported ajv-formats format');
}
const fullDateTime = predicate(fullFormats['date-time']);
const fullUri = predicate(fullFormats.uri);
const fastUri = predicate(fastFormats.uri);
/** RFC 3339 time-offset: Z or ±hh:mm (ajv-formats also takes ±hhmm and ±hh). */
const RFC3339_OFFSET = /(?:[Zz]|[+-]\d\d:\d\d)$/;

function makeAjv(allErrors: boolean, lenient: boolean): Ajv {
  const ajv = new Ajv({
    allErrors,
    discriminator: true,
    strict: true,
    strictRequired: false,
    strictTypes: true,
    code: { optimize: true },
  });
  if (lenient) {
    // formats are annotations: any string passes (the strict validators say which do not hold)
    for (const f of ['uuid', 'date-time', 'uri']) ajv.addFormat(f, { type: 'string', validate: () => true });
    ajv.addSchema(withoutRequired(openLineageSchema, 'schemaURL'));
    return ajv;
  }
  addFormats(ajv, { mode: 'full', formats: ['uuid'] });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => RFC3339_OFFSET.test(s) && fullDateTime(s) });
  ajv.addFormat('uri', {
    type: 'string',
    validate: (s: string) => (s.length <= FULL_URI_MAX_LENGTH ? fullUri(s) : fastUri(s)),
  });
  ajv.addSchema(openLineageSchema);
  return ajv;
}

/** A copy of the schema where no definition requires `property` (the event-level `schemaURL`). */
function withoutRequired(schema: SchemaObject, property: string): SchemaObject {
  const defs = schema['definitions'] as Record<string, SchemaObject>;
  const copy: Record<string, SchemaObject> = {};
  for (const [k, d] of Object.entries(defs))
    copy[k] =
      Array.isArray(d['required']) && d['required'].includes(property)
        ? { ...d, required: (d['required'] as string[]).filter((r) => r !== property) }
        : d;
  return { ...schema, definitions: copy };
}

type Validators = Record<OpenLineageKind | 'BaseEvent', ValidateFunction>;
function compile(allErrors: boolean, lenient = false): Validators {
  const ajv = makeAjv(allErrors, lenient);
  const get = (ref: string): ValidateFunction => {
    const v = ajv.getSchema(ref);
    if (!v) throw new Error(`OpenLineage schema: ${ref} not found`);
    return v;
  };
  return {
    RunEvent: get(OPENLINEAGE_EVENT_REFS.RunEvent),
    DatasetEvent: get(OPENLINEAGE_EVENT_REFS.DatasetEvent),
    JobEvent: get(OPENLINEAGE_EVENT_REFS.JobEvent),
    BaseEvent: get(OPENLINEAGE_EVENT_REFS.BaseEvent),
  };
}
/** first error only: the fast path for valid events, and the report for huge invalid ones */
const firstError = compile(false);
/** every error, for events of at most ALL_ERRORS_NODE_LIMIT values */
const allErrors = compile(true);
/** lenient (formats as annotations, schemaURL optional): first error, and every error */
const lenientFirst = compile(false, true);
const lenientAll = compile(true, true);

const has = (o: Record<string, unknown>, key: string) =>
  Object.prototype.hasOwnProperty.call(o, key) && o[key] !== undefined;

/**
 * The kind of an event, as the spec tells them apart: `run` and `job` make a RunEvent (a stray
 * `dataset` is ignored, as upstream does); otherwise `dataset` makes a DatasetEvent (which must
 * then carry neither `run` nor `job`); otherwise `run` alone is a RunEvent missing its job and
 * `job` alone a JobEvent. Undefined when the event has none of run, job and dataset.
 */
export function openLineageKindOf(event: Record<string, unknown>): OpenLineageKind | undefined {
  const run = has(event, 'run');
  const job = has(event, 'job');
  if (run && job) return 'RunEvent';
  if (has(event, 'dataset')) return 'DatasetEvent';
  if (run) return 'RunEvent';
  if (job) return 'JobEvent';
  return undefined;
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

function toSchemaError(e: ErrorObject, kind: OpenLineageKind | undefined): OpenLineageSchemaError | undefined {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'if': // "must match else schema": the real error is reported beside it
      return undefined;
    case 'required':
      return {
        path: `${e.instancePath}/${escapePointer(String(p['missingProperty']))}`,
        keyword: 'required',
        message: e.message ?? 'is required',
      };
    case 'dependencies':
      return {
        path: `${e.instancePath}/${escapePointer(String(p['missingProperty']))}`,
        keyword: 'required',
        message: `must be present when "${String(p['property'])}" is`,
      };
    case 'additionalProperties':
      return {
        path: `${e.instancePath}/${escapePointer(String(p['additionalProperty']))}`,
        keyword: e.keyword,
        message: 'is not allowed here',
      };
    case 'enum':
      return {
        path: e.instancePath,
        keyword: e.keyword,
        message: `must be one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'discriminator':
      if (p['tagValue'] === undefined) return undefined; // the missing tag is reported by `required`
      return {
        path: `${e.instancePath}/${escapePointer(String(p['tag']))}`,
        keyword: e.keyword,
        message:
          p['error'] === 'mapping'
            ? `unknown ${String(p['tag'])} ${JSON.stringify(p['tagValue'])}`
            : (e.message ?? 'invalid tag'),
      };
    case 'not':
      if (kind === 'DatasetEvent')
        return {
          path: e.instancePath,
          keyword: e.keyword,
          message: 'must not be present in a DatasetEvent (an event with both run and job is a RunEvent)',
        };
      if (kind === 'JobEvent')
        return { path: e.instancePath, keyword: e.keyword, message: 'must not be present in a JobEvent' };
      return { path: e.instancePath, keyword: e.keyword, message: e.message ?? 'must not be valid' };
    default:
      return { path: e.instancePath, keyword: e.keyword, message: e.message ?? `fails ${e.keyword}` };
  }
}

function toSchemaErrors(
  raw: ErrorObject[] | null | undefined,
  kind: OpenLineageKind | undefined,
): OpenLineageSchemaError[] {
  const all: OpenLineageSchemaError[] = [];
  const seen = new Set<string>();
  for (const e of raw ?? []) {
    const err = toSchemaError(e, kind);
    if (!err) continue;
    const key = `${err.path}\u0000${err.keyword}\u0000${err.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    all.push(err);
  }
  if (all.length <= MAX_ERRORS) return all;
  const shown = all.slice(0, MAX_ERRORS - 1);
  shown.push({ path: '', keyword: 'maxErrors', message: `${all.length - shown.length} more errors not shown` });
  return shown;
}

/** Counts the JSON values of `v`, stopping once past `limit` (iterative: no recursion on deep input). */
function countValuesUpTo(v: unknown, limit: number): number {
  const stack: unknown[] = [v];
  let n = 0;
  while (stack.length) {
    const x = stack.pop();
    if (++n > limit) return n;
    if (x !== null && typeof x === 'object') {
      if (Array.isArray(x)) for (const item of x) stack.push(item);
      else for (const key in x) stack.push((x as Record<string, unknown>)[key]);
    }
  }
  return n;
}

function run(validators: Validators, which: OpenLineageKind | 'BaseEvent', event: unknown): ErrorObject[] | null {
  const v = validators[which];
  return v(event) ? null : (v.errors ?? []);
}

/**
 * Validates one OpenLineage event (already parsed JSON). Never throws: input that is not an
 * object, has no kind, or is nested too deeply for the validator's stack is reported as errors.
 * Strict (the default here, `WEIR_OPENLINEAGE_STRICT=true` in the service): every `format` and
 * `schemaURL` is required to hold. Lenient (`{ strict: false }`): an event that is structurally
 * valid (required properties, types, facet shapes) is accepted, and what only a format or the
 * missing `schemaURL` objected to comes back as `warnings`.
 */
export function validateOpenLineageEvent(event: unknown, opts: { strict?: boolean } = {}): OpenLineageValidation {
  const strict = opts.strict !== false;
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    return {
      ok: false,
      errors: [
        { path: '', keyword: 'type', message: 'must be an object (an OpenLineage RunEvent, DatasetEvent or JobEvent)' },
      ],
    };
  }
  const kind = openLineageKindOf(event as Record<string, unknown>);
  try {
    if (!kind) {
      const base =
        countValuesUpTo(event, ALL_ERRORS_NODE_LIMIT) > ALL_ERRORS_NODE_LIMIT
          ? run(firstError, 'BaseEvent', event)
          : run(allErrors, 'BaseEvent', event);
      const errors = toSchemaErrors(base, undefined);
      errors.push({
        path: '',
        keyword: 'required',
        message: "must have 'run' and 'job' (RunEvent), 'dataset' (DatasetEvent) or 'job' (JobEvent)",
      });
      return { ok: false, errors: errors.slice(0, MAX_ERRORS) };
    }
    const first = run(firstError, kind, event);
    if (!first) return { ok: true, kind, warnings: [] };
    const huge = countValuesUpTo(event, ALL_ERRORS_NODE_LIMIT) > ALL_ERRORS_NODE_LIMIT;
    if (!strict && !run(lenientFirst, kind, event)) {
      // structurally valid: what the strict schema objects to is formats and schemaURL only; but
      // eventTime orders everything: it must be a date-time (one without offset is read as UTC)
      const time = (event as Record<string, unknown>)['eventTime'];
      if (typeof time === 'string' && !(RFC3339_OFFSET.test(time) && fullDateTime(time)) && !fullDateTime(`${time}Z`)) {
        return {
          ok: false,
          kind,
          errors: [
            {
              path: '/eventTime',
              keyword: 'format',
              message: 'must be an RFC 3339 date-time (one without an offset is read as UTC)',
            },
          ],
        };
      }
      return { ok: true, kind, warnings: toWarnings(huge ? first : run(allErrors, kind, event)) };
    }
    const raw = strict
      ? huge
        ? first
        : run(allErrors, kind, event)
      : huge
        ? run(lenientFirst, kind, event)
        : run(lenientAll, kind, event);
    const errors = toSchemaErrors(raw, kind);
    return {
      ok: false,
      kind,
      errors: errors.length ? errors : [{ path: '', keyword: 'schema', message: `is not a valid ${kind}` }],
    };
  } catch (e) {
    if (e instanceof RangeError)
      return { ok: false, kind, errors: [{ path: '', keyword: 'depth', message: 'is nested too deeply to validate' }] };
    throw e;
  }
}

function toWarnings(raw: ErrorObject[] | null): OpenLineageWarning[] {
  const out: OpenLineageWarning[] = [];
  const seen = new Set<string>();
  for (const e of raw ?? []) {
    const w =
      e.keyword === 'format'
        ? {
            kind: `format:${String((e.params as { format?: string }).format)}`,
            path: e.instancePath,
            message: e.message ?? 'format does not hold',
          }
        : e.keyword === 'required'
          ? {
              kind: 'schemaURL:missing',
              path: `${e.instancePath}/${escapePointer(String((e.params as { missingProperty?: string }).missingProperty))}`,
              message: 'is missing (pre-2.0 client?)',
            }
          : undefined;
    if (!w || seen.has(`${w.kind}\u0000${w.path}`)) continue;
    seen.add(`${w.kind}\u0000${w.path}`);
    out.push(w);
    if (out.length >= MAX_ERRORS) break;
  }
  return out;
}
