/**
 * OpenLineage 2-0-2 conformance cases for `validateOpenLineageEvent`, built from the
 * OpenLineage corpus (../shared/corpora/openlineage, passed in as `corpusDir`):
 * - accept: the two full example events, every facet example of `spec/tests/<FacetName>/*.json`
 *   wrapped into a minimal event where the facet's schema places it (its `$defs` allOf base:
 *   RunFacet, JobFacet, DatasetFacet, InputDatasetFacet or OutputDatasetFacet), and a few
 *   variants of the corpus events that are valid (other kinds, fixed timezones);
 * - refuse: the client's serde examples (eventTime without timezone), the partial
 *   `nominal_time_without_end.json`, and broken variants of `spec/tests/example_full_event.json`.
 * `upstreamDiffers` marks the cases where the upstream schemas (core schema plus the facet schema
 * of each facet at its place) say the opposite, with why Weir decides otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One conformance case: an event and whether Weir accepts it. */
export interface OpenLineageCase {
  name: string;
  event: unknown;
  expect: 'accept' | 'refuse';
  why: string;
  /** set when the upstream schemas decide the opposite of `expect`: why Weir differs */
  upstreamDiffers?: string;
  /**
   * A refused case whose only fault is a `format` or a missing `schemaURL`: in the default (lenient)
   * mode Weir accepts it with a warning of this kind (JSON Schema 2020-12 makes formats
   * annotations; Marquez accepts such events); WEIR_OPENLINEAGE_STRICT=true refuses it.
   */
  lenient?: string;
}

type Json = Record<string, any>;
/** The facet bases of the core schema, i.e. where a facet goes in an event. */
export type FacetBase = 'RunFacet' | 'JobFacet' | 'DatasetFacet' | 'InputDatasetFacet' | 'OutputDatasetFacet';
const BASES: readonly FacetBase[] = ['RunFacet', 'JobFacet', 'DatasetFacet', 'InputDatasetFacet', 'OutputDatasetFacet'];

const EVENT_TIME = '2024-05-06T07:08:09.123Z';
const PRODUCER = 'https://github.com/weir/weir/tree/main/libs/lineage/conformance';
const SCHEMA_URL = (kind: string) => `https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/${kind}`;
const RUN_ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const FACET_BASE_FIELDS = {
  _producer: PRODUCER,
  _schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/BaseFacet',
};

const clone = <T>(v: T): T => structuredClone(v);

function minimalRunEvent(job: string): Json {
  return {
    eventTime: EVENT_TIME,
    eventType: 'COMPLETE',
    producer: PRODUCER,
    schemaURL: SCHEMA_URL('RunEvent'),
    run: { runId: RUN_ID },
    job: { namespace: 'weir-conformance', name: job },
    inputs: [{ namespace: 'postgres://db:5432', name: 'public.source' }],
    outputs: [{ namespace: 'postgres://db:5432', name: 'public.target' }],
  };
}
const minimalJobEvent = (job: string): Json => ({
  eventTime: EVENT_TIME,
  producer: PRODUCER,
  schemaURL: SCHEMA_URL('JobEvent'),
  job: { namespace: 'weir-conformance', name: job },
});
const minimalDatasetEvent = (): Json => ({
  eventTime: EVENT_TIME,
  producer: PRODUCER,
  schemaURL: SCHEMA_URL('DatasetEvent'),
  dataset: { namespace: 'postgres://db:5432', name: 'public.target' },
});

/** A facet `$defs` entry of a facet schema file: its base, and the fields it requires beyond the base. */
interface FacetDef {
  name: string;
  base: FacetBase;
  required: string[];
}

/** The facet key (the file's one top-level property) and its facet definitions with their bases. */
export function facetSchemaInfo(schema: Json): { key: string; defs: FacetDef[] } {
  const key = Object.keys(schema['properties'] ?? {})[0];
  if (!key) throw new Error(`facet schema ${String(schema['$id'])} has no top-level property`);
  const defs: FacetDef[] = [];
  for (const [name, def] of Object.entries<Json>(schema['$defs'] ?? {})) {
    const parts: Json[] = Array.isArray(def['allOf']) ? def['allOf'] : [];
    const base = parts
      .map((p) => String(p['$ref'] ?? '').split('#/$defs/')[1])
      .find((b): b is FacetBase => BASES.includes(b as FacetBase));
    if (!base) continue;
    defs.push({
      name,
      base,
      required: parts.flatMap((p) => (Array.isArray(p['required']) ? (p['required'] as string[]) : [])),
    });
  }
  if (!defs.length)
    throw new Error(`facet schema ${String(schema['$id'])} has no facet definition based on a core facet`);
  return { key, defs };
}

/**
 * Where a facet example goes: the definition named by the fragment of its `_schemaURL` when the
 * file has it, else the one whose required fields the example has (the most of them).
 */
function placeFacet(defs: FacetDef[], facet: Json): FacetDef {
  if (defs.length === 1) return defs[0];
  const fragment = String(facet['_schemaURL'] ?? '').split('#/$defs/')[1];
  const named = defs.find((d) => d.name === fragment);
  if (named) return named;
  const fitting = defs
    .filter((d) => d.required.every((r) => r in facet))
    .sort((a, b) => b.required.length - a.required.length);
  if (!fitting.length) throw new Error(`no facet definition fits ${JSON.stringify(Object.keys(facet))}`);
  return fitting[0];
}

/** The minimal events that carry `facet` under `key` at the place of `base`, with where it is. */
function wrapFacet(base: FacetBase, key: string, facet: Json, job: string): { at: string; event: Json }[] {
  const run = minimalRunEvent(job);
  switch (base) {
    case 'RunFacet':
      run['run'].facets = { [key]: facet };
      return [{ at: 'run.facets', event: run }];
    case 'JobFacet': {
      run['job'].facets = { [key]: facet };
      const jobEvent = minimalJobEvent(job);
      jobEvent['job'].facets = { [key]: clone(facet) };
      return [
        { at: 'job.facets', event: run },
        { at: 'JobEvent job.facets', event: jobEvent },
      ];
    }
    case 'DatasetFacet': {
      run['outputs'][0].facets = { [key]: facet };
      const datasetEvent = minimalDatasetEvent();
      datasetEvent['dataset'].facets = { [key]: clone(facet) };
      return [
        { at: 'outputs[0].facets', event: run },
        { at: 'DatasetEvent dataset.facets', event: datasetEvent },
      ];
    }
    case 'InputDatasetFacet':
      run['inputs'][0].inputFacets = { [key]: facet };
      return [{ at: 'inputs[0].inputFacets', event: run }];
    case 'OutputDatasetFacet':
      run['outputs'][0].outputFacets = { [key]: facet };
      return [{ at: 'outputs[0].outputFacets', event: run }];
  }
}

/** Every corpus event and facet example, plus broken variants; see the file comment. */
export function openLineageCases(corpusDir: string): OpenLineageCase[] {
  const read = (...rel: string[]): Json => JSON.parse(fs.readFileSync(path.join(corpusDir, ...rel), 'utf8')) as Json;
  const cases: OpenLineageCase[] = [];
  const accept = (name: string, event: unknown, why: string, upstreamDiffers?: string) =>
    cases.push({ name, event, expect: 'accept', why, ...(upstreamDiffers ? { upstreamDiffers } : {}) });
  const refuse = (name: string, event: unknown, why: string, upstreamDiffers?: string) =>
    cases.push({ name, event, expect: 'refuse', why, ...(upstreamDiffers ? { upstreamDiffers } : {}) });

  // ---- the corpus' example events
  const full = read('spec', 'tests', 'example_full_event.json');
  accept(
    'spec/tests/example_full_event.json',
    full,
    'the spec example RunEvent (its extra `dataset` property is ignored, as upstream ignores it)',
  );
  accept(
    'client-python-tests/example_full_event.json',
    read('client-python-tests', 'example_full_event.json'),
    'the Python client example RunEvent, with run, job, input, input-dataset and output-dataset facets',
  );

  // ---- every facet example of spec/tests, wrapped into a minimal event at its place
  const testsDir = path.join(corpusDir, 'spec', 'tests');
  const facetNames = fs
    .readdirSync(testsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const facetName of facetNames) {
    const { key, defs } = facetSchemaInfo(read('spec', 'facets', `${facetName}.json`));
    const files = fs
      .readdirSync(path.join(testsDir, facetName))
      .filter((f) => f.endsWith('.json'))
      .sort();
    for (const file of files) {
      const example = read('spec', 'tests', facetName, file);
      const keys = Object.keys(example);
      const facet = (keys.length === 1 && keys[0] === key ? example[key] : example) as Json;
      const def = placeFacet(defs, facet);
      for (const { at, event } of wrapFacet(def.base, key, clone(facet), facetName)) {
        accept(
          `facet ${facetName}/${file} as ${at}.${key}`,
          event,
          `spec facet example, a ${def.base} (${facetName}.json#/$defs/${def.name})`,
        );
      }
    }
  }

  // ---- the Python client's serde examples and the partial nominal-time facet
  for (const kind of ['run', 'job', 'dataset']) {
    const file = `serde_example_${kind}_event.json`;
    const event = read('client-python-tests', file);
    refuse(
      `client-python-tests/${file}`,
      event,
      kind === 'run'
        ? 'eventTime "2021-11-03T10:53:52.427343" has no timezone (not an RFC 3339 date-time); its nominalTime facet has dates ("2020-01-01") where the facet wants date-times'
        : 'eventTime "2021-11-03T10:53:52.427343" has no timezone (not an RFC 3339 date-time, the spec\'s format)',
    );
    const fixed = clone(event);
    fixed['eventTime'] = `${String(event['eventTime'])}Z`;
    if (kind === 'run') {
      fixed['run'].facets.nominalTime.nominalStartTime = '2020-01-01T00:00:00Z';
      fixed['run'].facets.nominalTime.nominalEndTime = '2020-01-02T00:00:00Z';
      accept(
        `client-python-tests/${file} with eventTime and nominal times as UTC date-times`,
        fixed,
        'the same RunEvent with its date-times made RFC 3339',
      );
      const onlyEventTime = clone(event);
      onlyEventTime['eventTime'] = `${String(event['eventTime'])}Z`;
      refuse(
        `client-python-tests/${file} with only eventTime fixed`,
        onlyEventTime,
        'nominalTime.nominalStartTime/nominalEndTime "2020-01-01" are dates, not date-times (NominalTimeRunFacet)',
      );
    } else {
      accept(
        `client-python-tests/${file} with eventTime in UTC`,
        fixed,
        `the same ${kind === 'job' ? 'JobEvent' : 'DatasetEvent'} with a timezone on eventTime`,
      );
    }
  }
  const nominal = read('client-python-tests', 'nominal_time_without_end.json');
  refuse(
    'client-python-tests/nominal_time_without_end.json',
    nominal,
    'not an event: a bare NominalTimeRunFacet (the Python client test parses it as a facet), without eventTime, producer, schemaURL or run/job/dataset',
  );
  const nominalEvent = minimalRunEvent('nominal_time_without_end');
  nominalEvent['run'].facets = { nominalTime: clone(nominal) };
  refuse(
    'client-python-tests/nominal_time_without_end.json as run.facets.nominalTime',
    nominalEvent,
    'nominalStartTime "2020-01-01" is a date, not a date-time (NominalTimeRunFacet 1-0-1)',
  );

  // ---- valid variants of the spec example
  const variant = (change: (e: Json) => void): Json => {
    const e = clone(full);
    change(e);
    return e;
  };
  accept(
    'example_full_event without eventType',
    variant((e) => delete e['eventType']),
    'eventType is optional',
  );
  accept(
    'example_full_event with a +02:00 offset',
    variant((e) => (e['eventTime'] = '2023-07-17T12:54:22.355067+02:00')),
    'an RFC 3339 offset is a timezone',
  );
  accept(
    'example_full_event without run and dataset (a JobEvent)',
    variant((e) => {
      delete e['run'];
      delete e['dataset'];
      delete e['eventType'];
    }),
    'job without run is a JobEvent; inputs/outputs are allowed on it',
  );
  accept(
    'example_full_event with only its dataset (a DatasetEvent)',
    variant((e) => {
      for (const k of ['run', 'job', 'eventType', 'inputs', 'outputs']) delete e[k];
    }),
    'dataset without run and job is a DatasetEvent',
  );
  accept(
    'example_full_event with a custom run facet',
    variant((e) => (e['run'].facets = { weir_custom: { ...FACET_BASE_FIELDS, anything: [1, { nested: true }] } })),
    'custom facets are allowed: only the base facet fields are required',
  );
  accept(
    'example_full_event with a deleted sql facet',
    variant((e) => (e['job'].facets.sql = { ...FACET_BASE_FIELDS, _deleted: true })),
    'a job facet with _deleted: true only needs the base facet fields',
    'SQLJobFacet.json requires query even on a deletion; the core schema (what upstream validates events with) does not look at facet shapes, and a deletion has no content',
  );

  // ---- broken variants of the spec example (each is invalid per the spec)
  const facetExample = (facetName: string, file = '1.json'): Json => {
    const example = read('spec', 'tests', facetName, file);
    return clone(example[Object.keys(example)[0]]) as Json;
  };
  const withOutput = (e: Json) => (e['outputs'] = [{ namespace: 'food_delivery', name: 'public.delivery_7_days' }]);
  const withInput = (e: Json) => (e['inputs'] = [{ namespace: 'food_delivery', name: 'public.orders' }]);
  const broken = (name: string, why: string, change: (e: Json) => void, upstreamDiffers?: string) =>
    refuse(`example_full_event ${name}`, variant(change), why, upstreamDiffers);

  broken('without eventTime', 'eventTime is required (BaseEvent)', (e) => delete e['eventTime']);
  broken('without producer', 'producer is required (BaseEvent)', (e) => delete e['producer']);
  broken('without schemaURL', 'schemaURL is required (BaseEvent)', (e) => delete e['schemaURL']);
  broken(
    'without run (job and dataset left)',
    'job and dataset without run: a DatasetEvent must not carry job, and upstream it matches both DatasetEvent and JobEvent (oneOf fails)',
    (e) => delete e['run'],
  );
  broken('without run.runId', 'run.runId is required (Run)', (e) => delete e['run'].runId);
  broken('without job.name', 'job.name is required (Job)', (e) => delete e['job'].name);
  broken('without job.namespace', 'job.namespace is required (Job)', (e) => delete e['job'].namespace);
  broken(
    'with an output without name',
    'a dataset needs namespace and name (Dataset)',
    (e) => (e['outputs'] = [{ namespace: 'food_delivery' }]),
  );
  broken(
    'with an input without namespace',
    'a dataset needs namespace and name (Dataset)',
    (e) => (e['inputs'] = [{ name: 'public.orders' }]),
  );
  broken('with runId "not-a-uuid"', 'run.runId has format uuid', (e) => (e['run'].runId = 'not-a-uuid'));
  broken('with a numeric runId', 'run.runId is a string (uuid)', (e) => (e['run'].runId = 12345));
  broken(
    'with eventType "DONE"',
    'eventType is one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER',
    (e) => (e['eventType'] = 'DONE'),
  );
  broken('with eventTime "yesterday"', 'eventTime has format date-time', (e) => (e['eventTime'] = 'yesterday'));
  broken(
    'with eventTime without timezone',
    'an RFC 3339 date-time has a timezone',
    (e) => (e['eventTime'] = '2023-07-17T10:54:22.355067'),
  );
  broken('with a date as eventTime', 'a date is not a date-time', (e) => (e['eventTime'] = '2023-07-17'));
  broken('with producer "my producer"', 'producer has format uri', (e) => (e['producer'] = 'my producer'));
  broken('with an empty schemaURL', 'schemaURL has format uri', (e) => (e['schemaURL'] = ''));
  broken(
    'with inputs not an array',
    'inputs is an array of InputDataset',
    (e) => (e['inputs'] = { namespace: 'food_delivery', name: 'public.orders' }),
  );
  broken(
    'with a string as output',
    'an output is an object (OutputDataset)',
    (e) => (e['outputs'] = ['food_delivery.public.delivery_7_days']),
  );
  broken('with a facet that is a string', 'a facet is an object (JobFacet)', (e) => (e['job'].facets.sql = 'SELECT 1'));
  broken('with run.facets an array', 'run.facets is an object', (e) => (e['run'].facets = []));
  broken(
    'with a facet without _producer',
    '_producer is required on every facet (BaseFacet)',
    (e) => delete e['job'].facets.sql._producer,
  );
  broken(
    'with a facet whose _schemaURL is not a uri',
    '_schemaURL has format uri (BaseFacet)',
    (e) => (e['job'].facets.sql._schemaURL = 'SQLJobFacet'),
  );
  broken(
    'with a custom facet without base fields',
    'custom facets are base facets: _producer and _schemaURL required',
    (e) => (e['run'].facets = { weir_custom: { anything: 1 } }),
  );
  broken(
    'with a deleted facet without _producer',
    'a deletion is still a facet: _producer required',
    (e) => (e['job'].facets.sql = { _schemaURL: 'http://123', _deleted: true }),
  );
  broken('with _deleted "yes"', '_deleted is a boolean (JobFacet)', (e) => (e['job'].facets.sql._deleted = 'yes'));
  broken('with an sql facet without query', 'query is required (SQLJobFacet)', (e) => delete e['job'].facets.sql.query);
  broken(
    'with a jobType facet without integration',
    'processingType and integration are required (JobTypeJobFacet)',
    (e) => {
      const jobType = facetExample('JobTypeJobFacet');
      delete jobType['integration'];
      e['job'].facets.jobType = jobType;
    },
  );
  broken(
    'with a lineage job facet entry of type "TABLE"',
    'a lineage entry is a DATASET or JOB entry (LineageFacet)',
    (e) => {
      const lineage = facetExample('LineageFacet', 'job-to-dataset.json');
      lineage['entries'][0].type = 'TABLE';
      e['job'].facets.lineage = lineage;
    },
  );
  broken(
    'with columnLineage inputField without field',
    'an InputField needs namespace, name and field (ColumnLineageDatasetFacet)',
    (e) => {
      withOutput(e);
      const cl = facetExample('ColumnLineageDatasetFacet');
      delete cl['fields'].NAME.inputFields[0].field;
      e['outputs'][0].facets = { columnLineage: cl };
    },
  );
  broken('with columnLineage without fields', 'fields is required (ColumnLineageDatasetFacet)', (e) => {
    withOutput(e);
    const cl = facetExample('ColumnLineageDatasetFacet');
    delete cl['fields'];
    e['outputs'][0].facets = { columnLineage: cl };
  });
  broken(
    'with a columnLineage transformation without type',
    'a transformation needs type (ColumnLineageDatasetFacet 1-2-0)',
    (e) => {
      withOutput(e);
      const cl = facetExample('ColumnLineageDatasetFacet');
      delete cl['fields'].NAME.inputFields[0].transformations[0].type;
      e['outputs'][0].facets = { columnLineage: cl };
    },
  );
  broken('with a columnLineage transformation masking "no"', 'masking is a boolean', (e) => {
    withOutput(e);
    const cl = facetExample('ColumnLineageDatasetFacet');
    cl['fields'].NAME.inputFields[0].transformations[0].masking = 'no';
    e['outputs'][0].facets = { columnLineage: cl };
  });
  broken('with a schema field without name', 'a schema field needs name (SchemaDatasetFacet)', (e) => {
    withOutput(e);
    const schema = facetExample('SchemaDatasetFacet');
    delete schema['fields'][0].name;
    e['outputs'][0].facets = { schema };
  });
  broken(
    'with a nested schema field without name',
    'nested fields are schema fields too (SchemaDatasetFacet 1-2-0)',
    (e) => {
      withOutput(e);
      const schema = facetExample('SchemaDatasetFacet');
      delete schema['fields'][4].fields[0].name;
      e['outputs'][0].facets = { schema };
    },
  );
  broken('with a schema field ordinal_position 1.5', 'ordinal_position is an integer', (e) => {
    withOutput(e);
    const schema = facetExample('SchemaDatasetFacet');
    schema['fields'][0].ordinal_position = 1.5;
    e['outputs'][0].facets = { schema };
  });
  broken(
    'with a symlink without type',
    'a symlink identifier needs namespace, name and type (SymlinksDatasetFacet)',
    (e) => {
      withOutput(e);
      const symlinks = facetExample('SymlinksDatasetFacet');
      delete symlinks['identifiers'][0].type;
      e['outputs'][0].facets = { symlinks };
    },
  );
  broken(
    'with lifecycleStateChange "MOVE"',
    'lifecycleStateChange is one of ALTER, CREATE, DROP, OVERWRITE, RENAME, TRUNCATE',
    (e) => {
      withOutput(e);
      const lifecycle = facetExample('LifecycleStateChangeDatasetFacet');
      lifecycle['lifecycleStateChange'] = 'MOVE';
      e['outputs'][0].facets = { lifecycleStateChange: lifecycle };
    },
  );
  broken('with an owner without name', 'an owner needs name (OwnershipDatasetFacet)', (e) => {
    withOutput(e);
    const ownership = facetExample('OwnershipDatasetFacet');
    delete ownership['owners'][0].name;
    e['outputs'][0].facets = { ownership };
  });
  broken(
    'with outputStatistics rowCount "2000"',
    'rowCount is an integer (OutputStatisticsOutputDatasetFacet)',
    (e) => {
      withOutput(e);
      const stats = facetExample('OutputStatisticsOutputDatasetFacet');
      stats['rowCount'] = '2000';
      e['outputs'][0].outputFacets = { outputStatistics: stats };
    },
  );
  broken(
    'with dataQualityAssertions success "yes"',
    'success is a boolean (DataQualityAssertionsDatasetFacet)',
    (e) => {
      withInput(e);
      const dqa = facetExample('DataQualityAssertionsDatasetFacet');
      dqa['assertions'][0].success = 'yes';
      e['inputs'][0].inputFacets = { dataQualityAssertions: dqa };
    },
  );
  broken('with a dataQualityAssertions assertion without success', 'assertion and success are required', (e) => {
    withInput(e);
    const dqa = facetExample('DataQualityAssertionsDatasetFacet');
    delete dqa['assertions'][1].success;
    e['inputs'][0].inputFacets = { dataQualityAssertions: dqa };
  });
  broken('with dataQualityAssertions without assertions', 'assertions is required', (e) => {
    withInput(e);
    const dqa = facetExample('DataQualityAssertionsDatasetFacet');
    delete dqa['assertions'];
    e['inputs'][0].inputFacets = { dataQualityAssertions: dqa };
  });
  broken(
    'with dataQualityAssertions success "yes" as a dataset facet',
    'Weir checks dataQualityAssertions where dbt sends it (inputs[].facets) too: success is a boolean',
    (e) => {
      withInput(e);
      const dqa = facetExample('DataQualityAssertionsDatasetFacet');
      dqa['assertions'][0].success = 'yes';
      e['inputs'][0].facets = { dataQualityAssertions: dqa };
    },
    'upstream, dataQualityAssertions is only an input-dataset facet, so as a dataset facet it is a custom facet checked for _producer/_schemaURL only',
  );
  broken(
    'with dataQualityMetrics rowCount "10"',
    'rowCount is an integer (DataQualityMetricsInputDatasetFacet)',
    (e) => {
      withInput(e);
      const dqm = facetExample('DataQualityMetricsInputDatasetFacet');
      dqm['rowCount'] = '10';
      e['inputs'][0].inputFacets = { dataQualityMetrics: dqm };
    },
  );
  broken(
    'with dataQualityMetrics without columnMetrics',
    'columnMetrics is required (DataQualityMetricsInputDatasetFacet)',
    (e) => {
      withInput(e);
      const dqm = facetExample('DataQualityMetricsInputDatasetFacet');
      delete dqm['columnMetrics'];
      e['inputs'][0].inputFacets = { dataQualityMetrics: dqm };
    },
  );
  broken('with dataQualityMetrics lastUpdated "last week"', 'lastUpdated has format date-time', (e) => {
    withInput(e);
    const dqm = facetExample('DataQualityMetricsInputDatasetFacet');
    dqm['lastUpdated'] = 'last week';
    e['inputs'][0].inputFacets = { dataQualityMetrics: dqm };
  });
  broken('with a parent facet whose runId is not a uuid', 'parent.run.runId has format uuid (ParentRunFacet)', (e) => {
    const parent = facetExample('ParentRunFacet');
    parent['run'].runId = 'parent-run';
    e['run'].facets = { parent };
  });
  broken('with a parent facet without job', 'run and job are required (ParentRunFacet)', (e) => {
    const parent = facetExample('ParentRunFacet');
    delete parent['job'];
    e['run'].facets = { parent };
  });
  broken(
    'with an errorMessage facet without programmingLanguage',
    'message and programmingLanguage are required (ErrorMessageRunFacet)',
    (e) => {
      const errorMessage = facetExample('ErrorMessageRunFacet');
      delete errorMessage['programmingLanguage'];
      e['run'].facets = { errorMessage };
    },
  );
  broken(
    'with a nominalTime facet without nominalStartTime',
    'nominalStartTime is required (NominalTimeRunFacet)',
    (e) => {
      const nominalTime = facetExample('NominalTimeRunFacet');
      delete nominalTime['nominalStartTime'];
      e['run'].facets = { nominalTime };
    },
  );
  broken(
    'with an executionParameters parameter carrying an extra property',
    'an ExecutionParameter allows no other properties (additionalProperties: false)',
    (e) => {
      e['run'].facets = {
        executionParameters: { ...FACET_BASE_FIELDS, parameters: [{ key: 'timeout', value: '3600', unit: 's' }] },
      };
    },
  );
  broken(
    'as a DatasetEvent carrying run (job removed)',
    'a DatasetEvent describes a dataset outside any run: it carries neither run nor job',
    (e) => delete e['job'],
    'upstream DatasetEvent only has `not: {required: [job, run]}`, which forbids the two together, so dataset + run alone passes as a DatasetEvent',
  );
  const lenient: Record<string, string> = {
    'example_full_event without schemaURL': 'schemaURL:missing',
    'example_full_event with runId "not-a-uuid"': 'runId:mapped',
    'example_full_event with eventTime without timezone': 'eventTime:utc',
    'example_full_event with producer "my producer"': 'format:uri',
    'example_full_event with an empty schemaURL': 'format:uri',
    'example_full_event with a facet whose _schemaURL is not a uri': 'format:uri',
    'example_full_event with dataQualityMetrics lastUpdated "last week"': 'format:date-time',
    'example_full_event with a parent facet whose runId is not a uuid': 'runId:mapped',
    'client-python-tests/serde_example_run_event.json': 'eventTime:utc',
    'client-python-tests/serde_example_job_event.json': 'eventTime:utc',
    'client-python-tests/serde_example_dataset_event.json': 'eventTime:utc',
    'client-python-tests/serde_example_run_event.json with only eventTime fixed': 'format:date-time',
    'client-python-tests/nominal_time_without_end.json as run.facets.nominalTime': 'format:date-time',
  };
  for (const c of cases) if (lenient[c.name]) c.lenient = lenient[c.name];
  const unmatched = Object.keys(lenient).filter((n) => !cases.some((c) => c.name === n));
  if (unmatched.length) throw new Error(`openlineage cases: lenient names match no case: ${unmatched.join(', ')}`);
  return cases;
}
