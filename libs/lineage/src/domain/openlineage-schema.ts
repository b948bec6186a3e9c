/**
 * Weir's own JSON Schema (draft-07, for plain `Ajv` with `discriminator: true`) of OpenLineage
 * events, spec 2-0-2, written from the facts of the upstream core schema
 * (https://openlineage.io/spec/2-0-2/OpenLineage.json) and its facet schemas
 * (https://openlineage.io/spec/facets/…): required fields, types, formats and facet shapes.
 * Nothing is loaded from the upstream files at runtime.
 *
 * What it follows from the spec:
 * - BaseEvent: `eventTime` (date-time), `producer` and `schemaURL` (uri), all required.
 * - RunEvent: + `run` {runId uuid} and `job` {namespace, name}; optional `eventType` enum; optional
 *   `inputs`/`outputs` arrays. DatasetEvent: + `dataset` (StaticDataset). JobEvent: + `job`, no `run`.
 *   The kind is decided in code first (see `openlineage-validator.ts`), then the event is validated
 *   against that kind's schema, so errors are the kind's errors rather than a `oneOf` error soup.
 * - Every facet is an object with `_producer` and `_schemaURL` (uri), required (the core BaseFacet),
 *   other properties allowed. Job and dataset facets may carry `_deleted` (boolean).
 * - Known facets are checked by key where the spec places them (run, job, dataset, input-dataset
 *   and output-dataset facets); unknown (custom) facets only need the base facet fields.
 *
 * Weir's choices where the spec leaves room (see the report in the conformance cases):
 * - A job or dataset facet with `_deleted: true` only needs the base fields: the facet's own
 *   required fields are waived (types are still checked when the fields are present).
 * - `dataQualityAssertions` is an input-dataset facet in the spec; the dbt integration sends it as a
 *   dataset facet (`inputs[].facets`), so its shape is checked there too.
 * - A DatasetEvent must carry neither `run` nor `job` (the upstream core schema only forbids both at
 *   once).
 */
import type { SchemaObject } from 'ajv';

/** `$id` of {@link openLineageSchema}; an identifier only, never fetched. */
export const OPENLINEAGE_SCHEMA_ID = 'https://weir.invalid/schemas/openlineage/2-0-2.json';

/** The `$ref` of each event kind's schema inside {@link openLineageSchema}. */
export const OPENLINEAGE_EVENT_REFS = {
  RunEvent: `${OPENLINEAGE_SCHEMA_ID}#/definitions/RunEvent`,
  DatasetEvent: `${OPENLINEAGE_SCHEMA_ID}#/definitions/DatasetEvent`,
  JobEvent: `${OPENLINEAGE_SCHEMA_ID}#/definitions/JobEvent`,
  BaseEvent: `${OPENLINEAGE_SCHEMA_ID}#/definitions/BaseEvent`,
} as const;

/** The eventType values of a RunEvent (spec 2-0-2). */
export const OPENLINEAGE_EVENT_TYPES = ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'] as const;

type Props = Record<string, SchemaObject>;

const str: SchemaObject = { type: 'string' };
/** A name Weir keeps in the graph (namespace, job, dataset, field, field type): up to 1024 characters (Weir's limit, not the spec's). */
export const MAX_NAME_LENGTH = 1024;
const name: SchemaObject = { type: 'string', maxLength: MAX_NAME_LENGTH };
const int: SchemaObject = { type: 'integer' };
const num: SchemaObject = { type: 'number' };
const bool: SchemaObject = { type: 'boolean' };
const uri: SchemaObject = { type: 'string', format: 'uri' };
const dateTime: SchemaObject = { type: 'string', format: 'date-time' };
const uuid: SchemaObject = { type: 'string', format: 'uuid' };
const anyObject: SchemaObject = { type: 'object' };
const ref = (name: string): SchemaObject => ({ $ref: `#/definitions/${name}` });
const arrayOf = (items: SchemaObject): SchemaObject => ({ type: 'array', items });
const mapOf = (values: SchemaObject): SchemaObject => ({ type: 'object', additionalProperties: values });
const oneValue = (value: string): SchemaObject => ({ type: 'string', enum: [value] });
const obj = (properties: Props, required: string[] = [], extra: SchemaObject = {}): SchemaObject => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  ...extra,
});

const BASE_FACET_PROPS: Props = { _producer: uri, _schemaURL: uri };
const BASE_FACET_REQUIRED = ['_producer', '_schemaURL'];

/** A run, input-dataset or output-dataset facet: base fields plus the facet's own. */
function facet(properties: Props, required: string[] = []): SchemaObject {
  return obj({ ...BASE_FACET_PROPS, ...properties }, [...BASE_FACET_REQUIRED, ...required]);
}

/** A job or dataset facet: may carry `_deleted`; when `_deleted` is true its own required fields are waived. */
function deletableFacet(properties: Props, required: string[] = []): SchemaObject {
  const s = obj({ ...BASE_FACET_PROPS, _deleted: bool, ...properties }, BASE_FACET_REQUIRED);
  if (!required.length) return s;
  return {
    ...s,
    if: { type: 'object', properties: { _deleted: { const: true } }, required: ['_deleted'] },
    else: { type: 'object', required },
  };
}

/** A facet map: known keys get their shape, any other key must be a base facet. */
const facetMap = (base: string, known: Record<string, string>): SchemaObject => ({
  type: 'object',
  properties: Object.fromEntries(Object.entries(known).map(([key, def]) => [key, ref(def)])),
  additionalProperties: ref(base),
});

const owners = arrayOf(obj({ name: str, type: str }, ['name']));
const tagFields: Props = { key: str, value: str, source: str };
const qualityMetricsProps: Props = {
  rowCount: int,
  bytes: int,
  fileCount: int,
  lastUpdated: dateTime,
  columnMetrics: mapOf(
    obj({ nullCount: int, distinctCount: int, sum: num, count: num, min: num, max: num, quantiles: mapOf(num) }),
  ),
};
const qualityAssertionsProps: Props = {
  assertions: arrayOf(
    obj(
      {
        assertion: str,
        success: bool,
        column: str,
        severity: str,
        name: str,
        description: str,
        expected: str,
        actual: str,
        content: str,
        contentType: str,
        params: anyObject,
      },
      ['assertion', 'success'],
    ),
  ),
};
const statisticsProps: Props = { rowCount: int, size: int, fileCount: int };
const runRef = (facetsBase: string): SchemaObject => obj({ runId: uuid, facets: mapOf(ref(facetsBase)) }, ['runId']);
const jobRef = (facetsBase: string): SchemaObject =>
  obj({ namespace: name, name, facets: mapOf(ref(facetsBase)) }, ['namespace', 'name']);
const baseEventProps: Props = { eventTime: dateTime, producer: uri, schemaURL: uri };
const BASE_EVENT_REQUIRED = ['eventTime', 'producer', 'schemaURL'];
const datasetProps: Props = { namespace: name, name, facets: ref('DatasetFacets') };
const notPresent: SchemaObject = { not: {} };

const definitions: Record<string, SchemaObject> = {
  // ---- events (OpenLineage.json $defs)
  BaseEvent: obj(baseEventProps, BASE_EVENT_REQUIRED),
  RunEvent: obj(
    {
      ...baseEventProps,
      eventType: { type: 'string', enum: [...OPENLINEAGE_EVENT_TYPES] },
      run: ref('Run'),
      job: ref('Job'),
      inputs: arrayOf(ref('InputDataset')),
      outputs: arrayOf(ref('OutputDataset')),
    },
    [...BASE_EVENT_REQUIRED, 'run', 'job'],
  ),
  DatasetEvent: obj({ ...baseEventProps, dataset: ref('StaticDataset'), run: notPresent, job: notPresent }, [
    ...BASE_EVENT_REQUIRED,
    'dataset',
  ]),
  JobEvent: obj(
    {
      ...baseEventProps,
      job: ref('Job'),
      inputs: arrayOf(ref('InputDataset')),
      outputs: arrayOf(ref('OutputDataset')),
      run: notPresent,
    },
    [...BASE_EVENT_REQUIRED, 'job'],
  ),
  Run: obj({ runId: uuid, facets: ref('RunFacets') }, ['runId']),
  Job: obj({ namespace: name, name, facets: ref('JobFacets') }, ['namespace', 'name']),
  Dataset: obj(datasetProps, ['namespace', 'name']),
  StaticDataset: obj(datasetProps, ['namespace', 'name']),
  InputDataset: obj({ ...datasetProps, inputFacets: ref('InputDatasetFacets') }, ['namespace', 'name']),
  OutputDataset: obj({ ...datasetProps, outputFacets: ref('OutputDatasetFacets') }, ['namespace', 'name']),

  // ---- facet bases
  BaseFacet: facet({}),
  RunFacet: facet({}),
  InputDatasetFacet: facet({}),
  OutputDatasetFacet: facet({}),
  JobFacet: deletableFacet({}),
  DatasetFacet: deletableFacet({}),

  // ---- facet maps
  RunFacets: facetMap('RunFacet', {
    nominalTime: 'NominalTimeRunFacet',
    parent: 'ParentRunFacet',
    errorMessage: 'ErrorMessageRunFacet',
    processing_engine: 'ProcessingEngineRunFacet',
    environmentVariables: 'EnvironmentVariablesRunFacet',
    externalQuery: 'ExternalQueryRunFacet',
    extractionError: 'ExtractionErrorRunFacet',
    executionParameters: 'ExecutionParametersRunFacet',
    jobDependencies: 'JobDependenciesRunFacet',
    tags: 'TagsRunFacet',
    test: 'TestRunFacet',
  }),
  JobFacets: facetMap('JobFacet', {
    sql: 'SQLJobFacet',
    jobType: 'JobTypeJobFacet',
    documentation: 'DocumentationJobFacet',
    ownership: 'OwnershipJobFacet',
    sourceCode: 'SourceCodeJobFacet',
    sourceCodeLocation: 'SourceCodeLocationJobFacet',
    tags: 'TagsJobFacet',
    lineage: 'LineageJobFacet',
  }),
  DatasetFacets: facetMap('DatasetFacet', {
    schema: 'SchemaDatasetFacet',
    columnLineage: 'ColumnLineageDatasetFacet',
    dataSource: 'DatasourceDatasetFacet',
    documentation: 'DocumentationDatasetFacet',
    ownership: 'OwnershipDatasetFacet',
    symlinks: 'SymlinksDatasetFacet',
    lifecycleStateChange: 'LifecycleStateChangeDatasetFacet',
    version: 'DatasetVersionDatasetFacet',
    datasetType: 'DatasetTypeDatasetFacet',
    storage: 'StorageDatasetFacet',
    hierarchy: 'HierarchyDatasetFacet',
    catalog: 'CatalogDatasetFacet',
    tags: 'TagsDatasetFacet',
    dataQualityMetrics: 'DataQualityMetricsDatasetFacet',
    dataQualityAssertions: 'DataQualityAssertionsDatasetFacet',
    lineage: 'LineageDatasetFacet',
  }),
  InputDatasetFacets: facetMap('InputDatasetFacet', {
    dataQualityMetrics: 'DataQualityMetricsInputDatasetFacet',
    dataQualityAssertions: 'DataQualityAssertionsInputDatasetFacet',
    inputStatistics: 'InputStatisticsInputDatasetFacet',
    subset: 'InputSubsetInputDatasetFacet',
  }),
  OutputDatasetFacets: facetMap('OutputDatasetFacet', {
    outputStatistics: 'OutputStatisticsOutputDatasetFacet',
    subset: 'OutputSubsetOutputDatasetFacet',
  }),

  // ---- run facets
  NominalTimeRunFacet: facet({ nominalStartTime: dateTime, nominalEndTime: dateTime }, ['nominalStartTime']), // 1-0-1
  ParentRunFacet: facet(
    // 1-2-0; the forwarded facets of the parent and root are only checked as base facets, as upstream
    {
      run: runRef('RunFacet'),
      job: jobRef('JobFacet'),
      root: obj({ run: runRef('RunFacet'), job: jobRef('JobFacet') }, ['run', 'job']),
    },
    ['run', 'job'],
  ),
  ErrorMessageRunFacet: facet({ message: str, programmingLanguage: str, stackTrace: str }, [
    'message',
    'programmingLanguage',
  ]), // 1-0-1
  ProcessingEngineRunFacet: facet({ version: str, name: str, openlineageAdapterVersion: str }, ['version']), // 1-1-1
  EnvironmentVariablesRunFacet: facet(
    { environmentVariables: arrayOf(obj({ name: str, value: str }, ['name', 'value'])) },
    ['environmentVariables'],
  ), // 1-0-0
  ExternalQueryRunFacet: facet({ externalQueryId: str, source: str }, ['externalQueryId', 'source']), // 1-0-2
  ExtractionErrorRunFacet: facet(
    // 1-1-2
    {
      totalTasks: int,
      failedTasks: int,
      errors: arrayOf(obj({ errorMessage: str, stackTrace: str, task: str, taskNumber: int }, ['errorMessage'])),
    },
    ['totalTasks', 'failedTasks', 'errors'],
  ),
  ExecutionParametersRunFacet: facet({
    // 1-0-0: the only closed object of the spec (additionalProperties: false on a parameter)
    parameters: arrayOf(
      obj({ key: str, name: str, description: str, value: str }, ['key'], { additionalProperties: false }),
    ),
  }),
  JobDependenciesRunFacet: facet({
    // 1-0-1
    upstream: arrayOf(ref('JobDependency')),
    downstream: arrayOf(ref('JobDependency')),
    trigger_rule: str,
  }),
  JobDependency: obj(
    {
      job: obj({ namespace: str, name: str }, ['namespace', 'name']),
      run: obj({ runId: uuid }, ['runId']),
      dependency_type: str,
      sequence_trigger_rule: str,
      status_trigger_rule: str,
    },
    ['job'],
  ),
  TagsRunFacet: facet({ tags: arrayOf(obj(tagFields, ['key', 'value'])) }), // 1-0-0
  TestRunFacet: facet(
    // 1-0-1
    {
      tests: arrayOf(
        obj(
          {
            name: str,
            status: str,
            severity: str,
            type: str,
            description: str,
            expected: str,
            actual: str,
            content: str,
            contentType: str,
            params: anyObject,
          },
          ['name', 'status'],
        ),
      ),
    },
    ['tests'],
  ),

  // ---- job facets
  SQLJobFacet: deletableFacet({ query: str, dialect: str }, ['query']), // 1-1-0
  JobTypeJobFacet: deletableFacet(
    // 2-0-4
    {
      processingType: str,
      integration: str,
      jobType: str,
      emissionPattern: obj(
        { eventTrigger: str, eventContentMode: str, windowDuration: { type: 'integer', minimum: 1 } },
        ['eventTrigger', 'eventContentMode'],
      ),
    },
    ['processingType', 'integration'],
  ),
  DocumentationJobFacet: deletableFacet({ description: str, contentType: str }, ['description']), // 1-1-0
  OwnershipJobFacet: deletableFacet({ owners }), // 1-0-1
  SourceCodeJobFacet: deletableFacet({ language: str, sourceCode: str }, ['language', 'sourceCode']), // 1-0-1
  SourceCodeLocationJobFacet: deletableFacet(
    // 1-1-0
    { type: str, url: uri, repoUrl: str, path: str, version: str, tag: str, branch: str, pullRequestNumber: str },
    ['type', 'url'],
  ),
  TagsJobFacet: deletableFacet({ tags: arrayOf(obj(tagFields, ['key', 'value'])) }), // 1-0-0
  LineageJobFacet: deletableFacet({ entries: arrayOf(ref('LineageEntry')) }, ['entries']), // LineageFacet 1-0-0

  // ---- dataset facets
  SchemaDatasetFacet: deletableFacet({ fields: arrayOf(ref('SchemaDatasetFacetField')) }), // 1-2-0
  SchemaDatasetFacetField: obj(
    { name, type: name, description: str, ordinal_position: int, fields: arrayOf(ref('SchemaDatasetFacetField')) },
    ['name'],
  ),
  ColumnLineageDatasetFacet: deletableFacet(
    // 1-2-0 (transformationDescription and transformationType are deprecated, still accepted)
    {
      fields: {
        ...mapOf(
          obj(
            {
              inputFields: arrayOf(ref('ColumnLineageInputField')),
              transformationDescription: str,
              transformationType: str,
            },
            ['inputFields'],
          ),
        ),
        propertyNames: { maxLength: MAX_NAME_LENGTH },
      },
      dataset: arrayOf(ref('ColumnLineageInputField')),
    },
    ['fields'],
  ),
  ColumnLineageInputField: obj(
    {
      namespace: name,
      name,
      field: name,
      transformations: arrayOf(obj({ type: str, subtype: str, description: str, masking: bool }, ['type'])),
    },
    ['namespace', 'name', 'field'],
  ),
  DatasourceDatasetFacet: deletableFacet({ name: str, uri }), // 1-0-1
  DocumentationDatasetFacet: deletableFacet({ description: str, contentType: str }, ['description']), // 1-1-0
  OwnershipDatasetFacet: deletableFacet({ owners }), // 1-0-1
  SymlinksDatasetFacet: deletableFacet({
    identifiers: arrayOf(obj({ namespace: str, name: str, type: str }, ['namespace', 'name', 'type'])),
  }), // 1-0-1
  LifecycleStateChangeDatasetFacet: deletableFacet(
    // 1-0-1
    {
      lifecycleStateChange: { type: 'string', enum: ['ALTER', 'CREATE', 'DROP', 'OVERWRITE', 'RENAME', 'TRUNCATE'] },
      previousIdentifier: obj({ name: str, namespace: str }, ['name', 'namespace']),
    },
    ['lifecycleStateChange'],
  ),
  DatasetVersionDatasetFacet: deletableFacet({ datasetVersion: str }, ['datasetVersion']), // 1-0-1
  DatasetTypeDatasetFacet: deletableFacet({ datasetType: str, subType: str }, ['datasetType']), // 1-0-1
  StorageDatasetFacet: deletableFacet({ storageLayer: str, fileFormat: str }, ['storageLayer']), // 1-0-1
  HierarchyDatasetFacet: deletableFacet({ hierarchy: arrayOf(obj({ type: str, name: str }, ['type', 'name'])) }, [
    'hierarchy',
  ]), // 1-0-0
  CatalogDatasetFacet: deletableFacet(
    // 1-1-0
    {
      framework: str,
      type: str,
      name: str,
      metadataUri: str,
      warehouseUri: str,
      source: str,
      catalogProperties: mapOf(str),
    },
    ['framework', 'type', 'name'],
  ),
  TagsDatasetFacet: deletableFacet({ tags: arrayOf(obj({ ...tagFields, field: str }, ['key', 'value'])) }), // 1-0-0
  DataQualityMetricsDatasetFacet: deletableFacet(qualityMetricsProps, ['columnMetrics']), // 1-0-0
  DataQualityAssertionsDatasetFacet: deletableFacet(qualityAssertionsProps, ['assertions']), // Weir: the 1-1-0 input facet's shape, as dbt sends it
  LineageDatasetFacet: deletableFacet({
    inputs: arrayOf(ref('LineageInput')),
    fields: mapOf(ref('LineageFieldEntry')),
  }), // LineageFacet 1-0-0

  // ---- input / output dataset facets
  DataQualityMetricsInputDatasetFacet: facet(qualityMetricsProps, ['columnMetrics']), // 1-0-3
  DataQualityAssertionsInputDatasetFacet: facet(qualityAssertionsProps, ['assertions']), // 1-1-0
  InputStatisticsInputDatasetFacet: facet(statisticsProps), // 1-0-0
  OutputStatisticsOutputDatasetFacet: facet(statisticsProps), // 1-0-2
  InputSubsetInputDatasetFacet: facet({ inputCondition: ref('BaseSubsetCondition') }, ['inputCondition']), // BaseSubsetDatasetFacet 1-0-0
  OutputSubsetOutputDatasetFacet: facet({ outputCondition: ref('BaseSubsetCondition') }, ['outputCondition']),

  // ---- explicit lineage (LineageFacet 1-0-0); upstream oneOfs are told apart by `type`
  LineageTransformation: obj({ type: str, subtype: str, description: str, masking: bool }, ['type']),
  LineageInput: {
    type: 'object',
    discriminator: { propertyName: 'type' },
    oneOf: [ref('LineageDatasetInput'), ref('LineageJobInput')],
  },
  LineageDatasetInput: obj(
    {
      namespace: str,
      name: str,
      type: oneValue('DATASET'),
      field: str,
      transformations: arrayOf(ref('LineageTransformation')),
    },
    ['namespace', 'name', 'type'],
  ),
  LineageJobInput: obj(
    {
      namespace: str,
      name: str,
      type: oneValue('JOB'),
      runId: uuid,
      transformations: arrayOf(ref('LineageTransformation')),
    },
    ['type'],
    { dependencies: { namespace: ['name'], name: ['namespace'] } },
  ),
  LineageFieldEntry: obj({ inputs: arrayOf(ref('LineageInput')) }, ['inputs']),
  LineageEntry: {
    type: 'object',
    discriminator: { propertyName: 'type' },
    oneOf: [ref('LineageDatasetEntry'), ref('LineageJobEntry')],
  },
  LineageDatasetEntry: obj(
    {
      namespace: str,
      name: str,
      type: oneValue('DATASET'),
      inputs: arrayOf(ref('LineageInput')),
      fields: mapOf(ref('LineageFieldEntry')),
    },
    ['namespace', 'name', 'type'],
  ),
  LineageJobEntry: obj(
    { namespace: str, name: str, type: oneValue('JOB'), runId: uuid, inputs: arrayOf(ref('LineageInput')) },
    ['type'],
    { dependencies: { namespace: ['name'], name: ['namespace'] } },
  ),

  // ---- subset conditions (BaseSubsetDatasetFacet 1-0-0); upstream oneOfs are told apart by `type`
  BaseSubsetCondition: {
    type: 'object',
    discriminator: { propertyName: 'type' },
    oneOf: [
      ref('LocationSubsetCondition'),
      ref('PartitionSubsetCondition'),
      ref('BinarySubsetCondition'),
      ref('CompareSubsetCondition'),
    ],
  },
  LocationSubsetCondition: obj({ type: oneValue('location'), locations: arrayOf(str) }, ['locations', 'type']),
  PartitionSubsetCondition: obj(
    {
      type: oneValue('partition'),
      partitions: arrayOf(obj({ identifier: str, dimensions: anyObject }, ['dimensions'])),
    },
    ['partitions', 'type'],
  ),
  BinarySubsetCondition: obj(
    { type: oneValue('binary'), left: ref('BaseSubsetCondition'), right: ref('BaseSubsetCondition'), operator: str },
    ['left', 'right', 'operator', 'type'],
  ),
  CompareSubsetCondition: obj(
    { type: oneValue('compare'), left: ref('CompareExpression'), right: ref('CompareExpression'), comparison: str },
    ['left', 'right', 'comparison', 'type'],
  ),
  CompareExpression: {
    type: 'object',
    discriminator: { propertyName: 'type' },
    oneOf: [ref('FieldCompareExpression'), ref('LiteralCompareExpression')],
  },
  FieldCompareExpression: obj({ type: oneValue('field'), field: str }, ['field', 'type']),
  LiteralCompareExpression: obj({ type: oneValue('literal'), value: str }, ['value', 'type']),
};

const knownKeys = (map: string): string[] => Object.keys((definitions[map] as { properties: Props }).properties);
/** Facet keys whose shape the schema checks, by where they sit in an event (any other key: base facet only). */
export const KNOWN_FACETS: Readonly<
  Record<'run' | 'job' | 'dataset' | 'inputDataset' | 'outputDataset', readonly string[]>
> = {
  run: knownKeys('RunFacets'),
  job: knownKeys('JobFacets'),
  dataset: knownKeys('DatasetFacets'),
  inputDataset: knownKeys('InputDatasetFacets'),
  outputDataset: knownKeys('OutputDatasetFacets'),
};

/**
 * All definitions in one draft-07 schema; each event kind is at `#/definitions/<Kind>`
 * ({@link OPENLINEAGE_EVENT_REFS}). Needs Ajv with `discriminator: true` and the formats
 * `date-time`, `uri` and `uuid`.
 */
export const openLineageSchema: SchemaObject = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: OPENLINEAGE_SCHEMA_ID,
  title: 'OpenLineage 2-0-2 events (Weir)',
  definitions,
};
