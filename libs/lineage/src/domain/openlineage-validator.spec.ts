import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import {
  openLineageCases,
  facetSchemaInfo,
  type FacetBase,
  type OpenLineageCase,
} from '../../conformance/openlineage-cases';
import {
  ALL_ERRORS_NODE_LIMIT,
  MAX_ERRORS,
  validateOpenLineageEvent,
  type OpenLineageSchemaError,
  type OpenLineageValidation,
} from './openlineage-validator';
import { normalizeOpenLineageEvent, ORIGINAL_IDS_FACET, uuidV5 } from './openlineage-normalize';

const BASE = {
  _producer: 'https://github.com/OpenLineage/OpenLineage/tree/1.30.0/client/python',
  _schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/BaseFacet',
};
const RUN_ID = '3f5e83fa-3480-44ff-99c5-ff943904e5e8';

type Json = Record<string, any>;
const runEvent = (extra: Json = {}): Json => ({
  eventTime: '2024-01-02T03:04:05.678Z',
  eventType: 'START',
  producer: 'https://github.com/OpenLineage/OpenLineage/tree/1.30.0/client/python',
  schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  run: { runId: RUN_ID },
  job: { namespace: 'airflow', name: 'daily.load' },
  ...extra,
});
const datasetEvent = (extra: Json = {}): Json => ({
  eventTime: '2024-01-02T03:04:05+01:00',
  producer: 'https://example.com/catalog',
  schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
  dataset: { namespace: 'postgres://db:5432', name: 'public.orders' },
  ...extra,
});
const jobEvent = (extra: Json = {}): Json => ({
  eventTime: '2024-01-02T03:04:05Z',
  producer: 'https://example.com/scheduler',
  schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent',
  job: { namespace: 'airflow', name: 'daily.load' },
  ...extra,
});

function errorsOf(r: OpenLineageValidation): OpenLineageSchemaError[] {
  if (r.ok) throw new Error(`expected a refusal, got ok (${r.kind})`);
  return r.errors;
}

describe('validateOpenLineageEvent', () => {
  it('accepts a minimal RunEvent, DatasetEvent and JobEvent', () => {
    expect(validateOpenLineageEvent(runEvent())).toEqual({ ok: true, kind: 'RunEvent', warnings: [] });
    expect(validateOpenLineageEvent(datasetEvent())).toEqual({ ok: true, kind: 'DatasetEvent', warnings: [] });
    expect(validateOpenLineageEvent(jobEvent())).toEqual({ ok: true, kind: 'JobEvent', warnings: [] });
    expect(validateOpenLineageEvent(runEvent({ eventType: undefined }))).toEqual({
      ok: true,
      kind: 'RunEvent',
      warnings: [],
    });
  });

  it('accepts a RunEvent with known and custom facets at every place', () => {
    const event = runEvent({
      run: {
        runId: RUN_ID,
        facets: {
          nominalTime: { ...BASE, nominalStartTime: '2024-01-02T00:00:00Z' },
          my_custom: { ...BASE, anything: [1, 'x'] },
        },
      },
      job: {
        namespace: 'dbt',
        name: 'model.orders',
        facets: {
          sql: { ...BASE, query: 'select 1' },
          jobType: { ...BASE, processingType: 'BATCH', integration: 'DBT' },
        },
      },
      inputs: [
        {
          namespace: 'pg',
          name: 'raw.orders',
          facets: { schema: { ...BASE, fields: [{ name: 'id', type: 'int' }] } },
          inputFacets: { inputStatistics: { ...BASE, rowCount: 3 } },
        },
      ],
      outputs: [
        {
          namespace: 'pg',
          name: 'mart.orders',
          facets: {
            columnLineage: {
              ...BASE,
              fields: {
                id: {
                  inputFields: [
                    {
                      namespace: 'pg',
                      name: 'raw.orders',
                      field: 'id',
                      transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }],
                    },
                  ],
                },
              },
            },
          },
          outputFacets: { outputStatistics: { ...BASE, rowCount: 3, size: 10 } },
        },
      ],
    });
    expect(validateOpenLineageEvent(event)).toEqual({ ok: true, kind: 'RunEvent', warnings: [] });
  });

  it('refuses a RunEvent without eventTime, at /eventTime', () => {
    const event = runEvent();
    delete event['eventTime'];
    const r = validateOpenLineageEvent(event);
    expect(r).toMatchObject({ ok: false, kind: 'RunEvent' });
    expect(errorsOf(r)).toEqual([
      { path: '/eventTime', keyword: 'required', message: "must have required property 'eventTime'" },
    ]);
  });

  it('refuses a runId that is not a uuid', () => {
    expect(errorsOf(validateOpenLineageEvent(runEvent({ run: { runId: 'run-42' } })))).toEqual([
      { path: '/run/runId', keyword: 'format', message: 'must match format "uuid"' },
    ]);
  });

  it('refuses an unknown eventType, listing the allowed ones', () => {
    const [e] = errorsOf(validateOpenLineageEvent(runEvent({ eventType: 'DONE' })));
    expect(e).toEqual({
      path: '/eventType',
      keyword: 'enum',
      message: 'must be one of "START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"',
    });
  });

  it('refuses an eventTime without timezone, and one with a non-RFC 3339 offset', () => {
    expect(errorsOf(validateOpenLineageEvent(runEvent({ eventTime: '2021-11-03T10:53:52.427343' })))).toEqual([
      { path: '/eventTime', keyword: 'format', message: 'must match format "date-time"' },
    ]);
    expect(errorsOf(validateOpenLineageEvent(runEvent({ eventTime: '2021-11-03T10:53:52+0200' })))[0].path).toBe(
      '/eventTime',
    );
    expect(validateOpenLineageEvent(runEvent({ eventTime: '2021-11-03T10:53:52.4+02:00' })).ok).toBe(true);
  });

  it('refuses a job without name', () => {
    expect(errorsOf(validateOpenLineageEvent(runEvent({ job: { namespace: 'airflow' } })))).toEqual([
      { path: '/job/name', keyword: 'required', message: "must have required property 'name'" },
    ]);
    expect(errorsOf(validateOpenLineageEvent(jobEvent({ job: { namespace: 'airflow' } })))[0].path).toBe('/job/name');
  });

  it('refuses known and custom facets without _producer', () => {
    const sql = runEvent({
      job: { namespace: 'a', name: 'b', facets: { sql: { _schemaURL: BASE._schemaURL, query: 'select 1' } } },
    });
    expect(errorsOf(validateOpenLineageEvent(sql))).toEqual([
      { path: '/job/facets/sql/_producer', keyword: 'required', message: "must have required property '_producer'" },
    ]);
    const custom = runEvent({ run: { runId: RUN_ID, facets: { my_custom: { _schemaURL: BASE._schemaURL } } } });
    expect(errorsOf(validateOpenLineageEvent(custom))).toEqual([
      {
        path: '/run/facets/my_custom/_producer',
        keyword: 'required',
        message: "must have required property '_producer'",
      },
    ]);
    const notObject = runEvent({ run: { runId: RUN_ID, facets: { my_custom: 'x' } } });
    expect(errorsOf(validateOpenLineageEvent(notObject))).toEqual([
      { path: '/run/facets/my_custom', keyword: 'type', message: 'must be object' },
    ]);
  });

  it('lets a deleted job/dataset facet go without its own fields, not without the base ones', () => {
    expect(
      validateOpenLineageEvent(
        runEvent({ job: { namespace: 'a', name: 'b', facets: { sql: { ...BASE, _deleted: true } } } }),
      ).ok,
    ).toBe(true);
    expect(
      errorsOf(
        validateOpenLineageEvent(
          runEvent({ job: { namespace: 'a', name: 'b', facets: { sql: { ...BASE, _deleted: false } } } }),
        ),
      )[0].path,
    ).toBe('/job/facets/sql/query');
    expect(
      errorsOf(
        validateOpenLineageEvent(
          datasetEvent({ dataset: { namespace: 'a', name: 'b', facets: { schema: { _deleted: true } } } }),
        ),
      ).map((e) => e.path),
    ).toEqual(['/dataset/facets/schema/_producer', '/dataset/facets/schema/_schemaURL']);
  });

  it('refuses a columnLineage inputField without field', () => {
    const event = runEvent({
      outputs: [
        {
          namespace: 'pg',
          name: 'mart.orders',
          facets: {
            columnLineage: { ...BASE, fields: { id: { inputFields: [{ namespace: 'pg', name: 'raw.orders' }] } } },
          },
        },
      ],
    });
    expect(errorsOf(validateOpenLineageEvent(event))).toEqual([
      {
        path: '/outputs/0/facets/columnLineage/fields/id/inputFields/0/field',
        keyword: 'required',
        message: "must have required property 'field'",
      },
    ]);
  });

  it('refuses a dataQualityAssertions assertion without success, as input facet and as dataset facet', () => {
    const dqa = {
      ...BASE,
      assertions: [
        { assertion: 'not_null', column: 'id', success: true },
        { assertion: 'unique', column: 'id' },
      ],
    };
    const asInputFacet = runEvent({
      inputs: [{ namespace: 'pg', name: 'raw.orders', inputFacets: { dataQualityAssertions: dqa } }],
    });
    expect(errorsOf(validateOpenLineageEvent(asInputFacet))).toEqual([
      {
        path: '/inputs/0/inputFacets/dataQualityAssertions/assertions/1/success',
        keyword: 'required',
        message: "must have required property 'success'",
      },
    ]);
    const asDatasetFacet = runEvent({
      inputs: [{ namespace: 'pg', name: 'raw.orders', facets: { dataQualityAssertions: dqa } }],
    });
    expect(errorsOf(validateOpenLineageEvent(asDatasetFacet))[0].path).toBe(
      '/inputs/0/facets/dataQualityAssertions/assertions/1/success',
    );
  });

  it('refuses a DatasetEvent carrying run, or job', () => {
    const withRun = validateOpenLineageEvent(datasetEvent({ run: { runId: RUN_ID } }));
    expect(withRun).toMatchObject({ ok: false, kind: 'DatasetEvent' });
    expect(errorsOf(withRun)).toEqual([
      {
        path: '/run',
        keyword: 'not',
        message: 'must not be present in a DatasetEvent (an event with both run and job is a RunEvent)',
      },
    ]);
    expect(errorsOf(validateOpenLineageEvent(datasetEvent({ job: { namespace: 'a', name: 'b' } })))[0].path).toBe(
      '/job',
    );
    // run + job + a stray dataset is a RunEvent, as upstream (spec/tests/example_full_event.json is one)
    expect(validateOpenLineageEvent(runEvent({ dataset: { namespace: 'a', name: 'b' } }))).toEqual({
      ok: true,
      kind: 'RunEvent',
      warnings: [],
    });
  });

  it('refuses a RunEvent without job, and an event of no kind', () => {
    const event = runEvent();
    delete event['job'];
    expect(validateOpenLineageEvent(event)).toEqual({
      ok: false,
      kind: 'RunEvent',
      errors: [{ path: '/job', keyword: 'required', message: "must have required property 'job'" }],
    });
    const none = validateOpenLineageEvent({ eventTime: 'now', producer: 'https://x.y' });
    expect(none.ok).toBe(false);
    expect(errorsOf(none)).toEqual([
      { path: '/schemaURL', keyword: 'required', message: "must have required property 'schemaURL'" },
      { path: '/eventTime', keyword: 'format', message: 'must match format "date-time"' },
      {
        path: '',
        keyword: 'required',
        message: "must have 'run' and 'job' (RunEvent), 'dataset' (DatasetEvent) or 'job' (JobEvent)",
      },
    ]);
  });

  it('refuses what is not an object', () => {
    for (const v of [null, 'event', 42, [runEvent()]])
      expect(errorsOf(validateOpenLineageEvent(v))).toEqual([
        { path: '', keyword: 'type', message: expect.stringContaining('must be an object') },
      ]);
  });

  it('reports discriminated lineage inputs by their type, and escapes facet keys in paths', () => {
    const lineage = {
      ...BASE,
      entries: [
        {
          namespace: 'pg',
          name: 'mart.orders',
          type: 'DATASET',
          inputs: [{ type: 'JOB', name: 'x' }, { type: 'TABLE' }],
        },
      ],
    };
    const errors = errorsOf(
      validateOpenLineageEvent(jobEvent({ job: { namespace: 'a', name: 'b', facets: { lineage } } })),
    );
    expect(errors).toEqual([
      {
        path: '/job/facets/lineage/entries/0/inputs/0/namespace',
        keyword: 'required',
        message: 'must be present when "name" is',
      },
      {
        path: '/job/facets/lineage/entries/0/inputs/1/type',
        keyword: 'discriminator',
        message: 'unknown type "TABLE"',
      },
    ]);
    const slashKey = runEvent({ run: { runId: RUN_ID, facets: { 'a/b~c': { _producer: 'x' } } } });
    expect(errorsOf(validateOpenLineageEvent(slashKey))).toEqual([
      {
        path: '/run/facets/a~1b~0c/_schemaURL',
        keyword: 'required',
        message: "must have required property '_schemaURL'",
      },
      { path: '/run/facets/a~1b~0c/_producer', keyword: 'format', message: 'must match format "uri"' },
    ]);
  });

  it(`caps the errors at ${MAX_ERRORS}, the last one counting the rest`, () => {
    const inputs = Array.from({ length: 200 }, () => ({ namespace: 'pg' }));
    const errors = errorsOf(validateOpenLineageEvent(runEvent({ inputs })));
    expect(errors).toHaveLength(MAX_ERRORS);
    expect(errors[0]).toEqual({
      path: '/inputs/0/name',
      keyword: 'required',
      message: "must have required property 'name'",
    });
    expect(errors[MAX_ERRORS - 1]).toEqual({
      path: '',
      keyword: 'maxErrors',
      message: `${200 - (MAX_ERRORS - 1)} more errors not shown`,
    });
  });

  describe('performance', () => {
    const bigEvent = (): Json => {
      // ~10 MB: a 60,000-column schema facet and column lineage for each column
      const n = 60_000;
      const fields = Array.from({ length: n }, (_, i) => ({
        name: `column_${i}`,
        type: 'VARCHAR',
        description: `the column number ${i} of a very wide table`,
        ordinal_position: i + 1,
      }));
      const lineage = Object.fromEntries(
        Array.from({ length: n }, (_, i) => [
          `column_${i}`,
          {
            inputFields: [
              {
                namespace: 'postgres://db:5432',
                name: 'raw.wide_table',
                field: `column_${i}`,
                transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }],
              },
            ],
          },
        ]),
      );
      return runEvent({
        outputs: [
          {
            namespace: 'postgres://db:5432',
            name: 'mart.wide_table',
            facets: { schema: { ...BASE, fields }, columnLineage: { ...BASE, fields: lineage } },
          },
        ],
      });
    };

    it('validates a 10+ MB event quickly, and reports a broken one by its first error', () => {
      const event = bigEvent();
      expect(JSON.stringify(event).length).toBeGreaterThan(10_000_000);
      let t = performance.now();
      expect(validateOpenLineageEvent(event)).toEqual({ ok: true, kind: 'RunEvent', warnings: [] });
      expect(performance.now() - t).toBeLessThan(2000);
      // every field broken: more than ALL_ERRORS_NODE_LIMIT values, so the first error only
      for (const f of event['outputs'][0].facets.schema.fields) delete f.name;
      t = performance.now();
      const errors = errorsOf(validateOpenLineageEvent(event));
      expect(performance.now() - t).toBeLessThan(2000);
      expect(errors).toEqual([
        {
          path: '/outputs/0/facets/schema/fields/0/name',
          keyword: 'required',
          message: "must have required property 'name'",
        },
      ]);
    });

    it('copes with a 10 MB uri, a 10 MB date-time and very deep nesting', () => {
      const long = 'x'.repeat(10_000_000);
      let t = performance.now();
      expect(validateOpenLineageEvent(runEvent({ producer: `https://example.com/${long}` })).ok).toBe(true);
      expect(
        errorsOf(validateOpenLineageEvent(runEvent({ producer: `https://example.com/${long} ` })))[0],
      ).toMatchObject({ path: '/producer', keyword: 'format' });
      expect(
        errorsOf(validateOpenLineageEvent(runEvent({ eventTime: `2024-01-01T00:00:00.${'1'.repeat(10_000_000)}` })))[0],
      ).toMatchObject({ path: '/eventTime', keyword: 'format' });
      expect(performance.now() - t).toBeLessThan(3000);
      let field: Json = { name: 'leaf' };
      for (let i = 0; i < 100_000; i++) field = { name: `level_${i}`, fields: [field] };
      t = performance.now();
      const deep = validateOpenLineageEvent(
        runEvent({ outputs: [{ namespace: 'pg', name: 't', facets: { schema: { ...BASE, fields: [field] } } }] }),
      );
      expect(deep).toEqual({
        ok: false,
        kind: 'RunEvent',
        errors: [{ path: '', keyword: 'depth', message: 'is nested too deeply to validate' }],
      });
      expect(performance.now() - t).toBeLessThan(3000);
      expect(ALL_ERRORS_NODE_LIMIT).toBeGreaterThan(1000);
    });

    it('validates thousands of typical events per second', () => {
      const events = Array.from({ length: 5000 }, (_, i) =>
        runEvent({
          run: {
            runId: `3f5e83fa-3480-44ff-99c5-${String(i).padStart(12, '0')}`,
            facets: {
              nominalTime: { ...BASE, nominalStartTime: '2024-01-02T00:00:00Z' },
              parent: { ...BASE, run: { runId: RUN_ID }, job: { namespace: 'airflow', name: 'dag' } },
            },
          },
          job: {
            namespace: 'airflow',
            name: `dag.task_${i}`,
            facets: {
              sql: { ...BASE, query: 'insert into mart.orders select * from raw.orders' },
              jobType: { ...BASE, processingType: 'BATCH', integration: 'AIRFLOW', jobType: 'TASK' },
            },
          },
          inputs: [
            {
              namespace: 'pg',
              name: 'raw.orders',
              facets: {
                schema: {
                  ...BASE,
                  fields: [
                    { name: 'id', type: 'int' },
                    { name: 'amount', type: 'numeric' },
                  ],
                },
              },
            },
          ],
          outputs: [
            {
              namespace: 'pg',
              name: 'mart.orders',
              facets: {
                columnLineage: {
                  ...BASE,
                  fields: { id: { inputFields: [{ namespace: 'pg', name: 'raw.orders', field: 'id' }] } },
                },
              },
            },
          ],
        }),
      );
      const t = performance.now();
      for (const e of events) expect(validateOpenLineageEvent(e).ok).toBe(true);
      const perSecond = events.length / ((performance.now() - t) / 1000);
      expect(perSecond).toBeGreaterThan(2000);
    });
  });
});

// ---------------------------------------------------------------- the OpenLineage corpus

const ROOT = path.resolve(__dirname, '../../../..');
const CORPUS = path.join(
  path.resolve(process.env['WEIR_SHARED_DIR'] ?? path.join(ROOT, '..', 'shared')),
  'corpora',
  'openlineage',
);
const haveCorpus = fs.existsSync(path.join(CORPUS, 'spec', 'OpenLineage.json'));
if (!haveCorpus) {
  // eslint-disable-next-line no-console -- a skipped suite must say so
  console.warn(
    `OpenLineage conformance skipped: ${CORPUS} not found (clone with ../shared beside the repo, or set WEIR_SHARED_DIR)`,
  );
}

/**
 * The upstream verdict: the core schema (spec/OpenLineage.json, draft 2020-12) on the event,
 * plus each facet against the facet schema definition for its key and place (as upstream's
 * test-facets.sh checks facet examples: the core schema alone does not look at facet shapes).
 */
function upstreamValidator(corpusDir: string): (event: unknown) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  addFormats(ajv);
  const core = JSON.parse(fs.readFileSync(path.join(corpusDir, 'spec', 'OpenLineage.json'), 'utf8')) as Json;
  ajv.addSchema(core);
  const byPlace = new Map<string, string>(); // `${base}:${key}` → facet definition ref
  for (const file of fs.readdirSync(path.join(corpusDir, 'spec', 'facets')).filter((f) => f.endsWith('.json'))) {
    const schema = JSON.parse(fs.readFileSync(path.join(corpusDir, 'spec', 'facets', file), 'utf8')) as Json;
    ajv.addSchema(schema);
    const { key, defs } = facetSchemaInfo(schema);
    for (const d of defs) byPlace.set(`${d.base}:${key}`, `${String(schema['$id'])}#/$defs/${d.name}`);
  }
  const validateCore = ajv.getSchema(String(core['$id']));
  if (!validateCore) throw new Error('upstream core schema did not compile');
  return (event) => {
    const problems: string[] = [];
    if (!validateCore(event)) problems.push(`core: ${ajv.errorsText(validateCore.errors)}`);
    const facetsAt = (base: FacetBase, facets: unknown, where: string) => {
      if (!facets || typeof facets !== 'object' || Array.isArray(facets)) return;
      for (const [key, facet] of Object.entries(facets as Json)) {
        const ref = byPlace.get(`${base}:${key}`);
        const v = ref ? ajv.getSchema(ref) : undefined;
        if (v && !v(facet)) problems.push(`${where}.${key}: ${ajv.errorsText(v.errors)}`);
      }
    };
    const e = (event ?? {}) as Json;
    facetsAt('RunFacet', e['run']?.facets, 'run.facets');
    facetsAt('JobFacet', e['job']?.facets, 'job.facets');
    facetsAt('DatasetFacet', e['dataset']?.facets, 'dataset.facets');
    for (const [list, extra, base] of [
      ['inputs', 'inputFacets', 'InputDatasetFacet'],
      ['outputs', 'outputFacets', 'OutputDatasetFacet'],
    ] as const) {
      const datasets: unknown = e[list];
      if (!Array.isArray(datasets)) continue;
      datasets.forEach((d: Json, i) => {
        facetsAt('DatasetFacet', d?.['facets'], `${list}[${i}].facets`);
        facetsAt(base, d?.[extra], `${list}[${i}].${extra}`);
      });
    }
    return problems;
  };
}

(haveCorpus ? describe : describe.skip)('OpenLineage conformance (../shared/corpora/openlineage)', () => {
  const cases: OpenLineageCase[] = haveCorpus ? openLineageCases(CORPUS) : [];
  const table = cases.map((c) => [c.name, c] as const);

  it('has every corpus example and enough broken variants', () => {
    const facetExamples = fs
      .readdirSync(path.join(CORPUS, 'spec', 'tests'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .reduce(
        (n, d) =>
          n + fs.readdirSync(path.join(CORPUS, 'spec', 'tests', d.name)).filter((f) => f.endsWith('.json')).length,
        0,
      );
    expect(facetExamples).toBeGreaterThanOrEqual(46);
    const accepted = cases.filter((c) => c.expect === 'accept');
    expect(accepted.filter((c) => c.name.startsWith('facet ')).length).toBeGreaterThanOrEqual(facetExamples);
    expect(
      cases.filter((c) => c.expect === 'refuse' && c.name.startsWith('example_full_event')).length,
    ).toBeGreaterThanOrEqual(15);
  });

  it.each(table)('%s', (_name, c) => {
    const r = validateOpenLineageEvent(c.event);
    if (c.expect === 'accept') expect(r).toEqual({ ok: true, kind: expect.any(String), warnings: [] });
    else {
      expect(r.ok).toBe(false);
      expect(errorsOf(r).length).toBeGreaterThan(0);
      // lenient: accepted (with its warning) exactly when only a format or schemaURL is at fault
      const l = validateOpenLineageEvent(c.event, { strict: false });
      expect(l.ok).toBe(!!c.lenient);
    }
  });

  describe('cross-check against the upstream schemas (ajv 2020, spec/OpenLineage.json + spec/facets/*.json)', () => {
    const upstream = haveCorpus ? upstreamValidator(CORPUS) : () => [];
    it.each(table)('%s', (_name, c) => {
      const upstreamExpect = c.upstreamDiffers ? (c.expect === 'accept' ? 'refuse' : 'accept') : c.expect;
      const problems = upstream(c.event);
      if (upstreamExpect === 'accept') expect(problems).toEqual([]);
      else expect(problems.length).toBeGreaterThan(0);
    });
  });
});

describe('lenient validation (the default of the service): formats are annotations', () => {
  const lenient = (e: unknown) => validateOpenLineageEvent(e, { strict: false });

  it("accepts a Spark event's bare dataSource.uri, a producer that is not a URI and a missing schemaURL, with one warning each; strict refuses them", () => {
    const e = runEvent({
      producer: 'spark',
      schemaURL: undefined,
      inputs: [
        { namespace: 'file', name: '/data/in.csv', facets: { dataSource: { ...BASE, name: 'file', uri: 'file' } } },
      ],
    });
    delete e['schemaURL'];
    const r = lenient(e);
    expect(r).toMatchObject({ ok: true, kind: 'RunEvent' });
    expect(r.ok && r.warnings.map((w) => `${w.kind} ${w.path}`).sort()).toEqual([
      'format:uri /inputs/0/facets/dataSource/uri',
      'format:uri /producer',
      'schemaURL:missing /schemaURL',
    ]);
    expect(validateOpenLineageEvent(e).ok).toBe(false);
  });

  it('still refuses what is structurally broken (a missing runId, a wrong type, an eventTime that is not a date-time)', () => {
    expect(lenient(runEvent({ run: {} })).ok).toBe(false);
    expect(lenient(runEvent({ eventType: 'DONE' })).ok).toBe(false);
    expect(lenient(runEvent({ inputs: 'x' })).ok).toBe(false);
    for (const t of ['yesterday', '2023-07-17', ''])
      expect([t, lenient(runEvent({ eventTime: t })).ok]).toEqual([t, false]);
  });

  it('maps a non-UUID run id (and a parent run id) to a stable UUID v5, keeps the originals, reads an eventTime without offset as UTC', () => {
    const e = runEvent({
      eventTime: '2022-03-01T10:00:00.123',
      run: {
        runId: 'scheduled__2022-03-01T00:00:00+00:00',
        facets: { parent: { ...BASE, run: { runId: 'dag_run_1' }, job: { namespace: 'airflow', name: 'dag' } } },
      },
    });
    const r = lenient(e);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const n = normalizeOpenLineageEvent(e, r.warnings);
    expect(n.changed).toBe(true);
    expect(n.event['eventTime']).toBe('2022-03-01T10:00:00.123Z');
    const run = n.event['run'] as Json;
    expect(run['runId']).toBe(uuidV5('scheduled__2022-03-01T00:00:00+00:00'));
    expect(run['runId']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(run['facets'].parent.run.runId).toBe(uuidV5('dag_run_1'));
    expect(run['facets'][ORIGINAL_IDS_FACET]).toMatchObject({
      runId: 'scheduled__2022-03-01T00:00:00+00:00',
      parentRunId: 'dag_run_1',
    });
    expect(r.warnings.map((w) => w.kind)).toEqual(
      expect.arrayContaining(['format:uuid', 'format:date-time', 'runId:mapped', 'eventTime:utc']),
    );
    // the normalized event is strictly valid but for its facets' own formats, and the mapping is stable
    expect(validateOpenLineageEvent(n.event).ok).toBe(true);
    expect(uuidV5('dag_run_1')).toBe(uuidV5('dag_run_1'));
    // RFC 9562's own v5 example: the DNS namespace and "www.example.com"
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    expect(e['run'].runId).toBe('scheduled__2022-03-01T00:00:00+00:00'); // the input is not changed
  });
});
