import { Inject, Injectable } from '@nestjs/common';
import { Outbox, Queryable, RUN_EVENTS_TOPIC, RunStateEvent } from '@weir/platform';
import { CATALOG, CatalogPort } from '@weir/catalog';
import type { SourceOrmEntity } from '../infrastructure/source.orm-entity';

/** The run events of ingestion runs (START, COMPLETE, FAIL), with the dataset's columns and their lineage. */
@Injectable()
export class RunEventsPublisher {
  constructor(
    @Inject(CATALOG) private readonly catalog: CatalogPort,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Publishes the run's state change through the outbox, on the connection (and in the transaction)
   * that records it. Input: the source (namespace `weir.sources`, its fields); output: the
   * dataset's table; each column fed by its source field (IDENTITY, or TRANSFORMATION when the
   * mapping trims, re-formats or defaults it).
   */
  async publish(
    tx: Queryable,
    runId: string,
    source: SourceOrmEntity,
    state: RunStateEvent['state'],
    extra: Partial<RunStateEvent> = {},
  ): Promise<void> {
    const dataset = await this.catalog.findDataset(source.dataset);
    const table = dataset ? `${dataset.schema}.${dataset.table}` : undefined;
    const mapping =
      (
        source.options as {
          mapping?: Record<
            string,
            {
              from?: string;
              trim?: boolean;
              format?: string;
              default?: string | null;
              decimalSeparator?: string;
              thousandsSeparator?: string;
            }
          >;
        }
      ).mapping ?? {};
    const cols = dataset?.contract.columns ?? [];
    const input = {
      namespace: 'weir.sources',
      name: source.name,
      fields: cols.map((c) => ({ name: mapping[c.name]?.from ?? c.name })),
    };
    const event: RunStateEvent = {
      slice: 'ingestion',
      job: `ingestion.${source.name}`,
      jobType: 'INGESTION',
      runId,
      state,
      at: new Date().toISOString(),
      inputs: [input],
      outputs: table
        ? [
            {
              name: table,
              fields: cols.map((c) => ({
                name: c.name,
                type: c.type,
                ...(c.description ? { description: c.description } : {}),
              })),
            },
          ]
        : [],
      columnMappings: table
        ? cols.map((c) => {
            const m = mapping[c.name] ?? {};
            const transformed = !!(m.format || m.decimalSeparator || m.thousandsSeparator || m.default !== undefined);
            return {
              output: table,
              column: c.name,
              inputs: [{ dataset: { namespace: input.namespace, name: input.name }, column: m.from ?? c.name }],
              subtype: transformed ? 'TRANSFORMATION' : 'IDENTITY',
            };
          })
        : undefined,
      ...extra,
    };
    await this.outbox.publish(tx, RUN_EVENTS_TOPIC, event, `${runId}:${state}`);
  }
}
