import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { primaryKey } from '@weir/catalog';
import { resolveCdc, ResolvedCdcConnector } from '../domain/cdc';
import type { CdcConnector } from '../domain/connector';
import { InvalidSourceError, NotCdcSourceError } from '../ingestion.errors';
import { CDC_REPLICATION, CdcReplication } from './ports/cdc-replication.port';
import { CDC_STREAM_STORE, CdcStreamRecord, CdcStreamStore } from './ports/cdc-stream-store.port';
import type { SourceRecord } from './ports/source-repository.port';
import { SourcesService } from './sources.service';

/** A CDC source's stream as the API shows it. */
export interface CdcStatusView {
  source: string;
  state: string;
  slot: string;
  publication: string;
  /** WAL bytes between the source server's position and the slot's confirmed one (live when reachable). */
  lagBytes: number | null;
  /** WAL the slot keeps on the source (a paused source is failed above maxSlotBytes). */
  retainedBytes: number | null;
  lagAlert: boolean;
  confirmedLsn: string | null;
  lastChangeAt: string | null;
  lastAppliedAt: string | null;
  changesRead: number;
  changesApplied: number;
  changesDeduplicated: number;
  deadLetters: number;
  consumer: string | null;
  error: { code: string; message: string } | null;
}

/** The CDC connector of a source, resolved, or undefined for any other source. */
export function cdcOf(source: Pick<SourceRecord, 'connector' | 'name'>): ResolvedCdcConnector | undefined {
  return source.connector?.kind === 'postgres_cdc'
    ? resolveCdc(source.connector as CdcConnector, source.name)
    : undefined;
}

/**
 * CDC sources' streams: checked against the source database when created (REPLICA IDENTITY,
 * wal_level), their status, pause and resume, and their slot and publication dropped with them.
 */
@Injectable()
export class CdcStreamsService implements OnModuleInit {
  private readonly log = new Logger('cdc');

  constructor(
    private readonly sources: SourcesService,
    @Inject(CDC_STREAM_STORE) private readonly store: CdcStreamStore,
    @Inject(CDC_REPLICATION) private readonly replication: CdcReplication,
  ) {}

  onModuleInit(): void {
    this.sources.addHooks({
      beforeCreate: async (input, contract) => {
        if (input.connector?.kind !== 'postgres_cdc') return;
        await this.replication.check(resolveCdc(input.connector, input.name), primaryKey(contract));
      },
      beforeUpdate: async (e, merged) => {
        const before = cdcOf(e);
        if (!before) {
          if (merged.connector?.kind === 'postgres_cdc')
            throw new InvalidSourceError('A source cannot become a postgres_cdc source: create a new source', {
              errors: ['connector.kind: a CDC source is created as one'],
            });
          return;
        }
        const after = merged.connector?.kind === 'postgres_cdc' ? resolveCdc(merged.connector, e.name) : undefined;
        // what the stream is made of stays; batch sizes, deletes, truncate, limits and the connection may change
        const fixed = ['table', 'slot', 'publication'] as const;
        const changed: string[] = after ? fixed.filter((k) => after[k] !== before[k]) : ['kind'];
        if (merged.dataset !== e.dataset) changed.push('dataset');
        if (changed.length)
          throw new InvalidSourceError(
            `A postgres_cdc source keeps its ${changed.join(', ')}: delete it (its slot goes with it) and create another`,
            { errors: changed.map((k) => `connector.${k}: fixed for a CDC source`) },
          );
      },
      afterCreate: async (e) => {
        const c = cdcOf(e);
        if (c) await this.store.create(e.id, c.slot, c.publication);
      },
      beforeRemove: async (e, force) => {
        const c = cdcOf(e);
        if (!c) return;
        try {
          await this.replication.drop(c);
        } catch (err) {
          // the slot would keep WAL on the source forever: removal waits for it unless forced
          if (!force) throw err;
          this.log.warn(
            `source ${e.name}: could not drop slot ${c.slot} / publication ${c.publication} (${(err as Error).message}); drop them on the source by hand`,
          );
        }
        // a deleted source's stream stays as history, never consumed again
        await this.store.setState(e.id, 'paused', ['snapshotting', 'streaming', 'failed']);
      },
    });
  }

  private async streamOf(
    idOrName: string,
  ): Promise<{ source: SourceRecord; c: ResolvedCdcConnector; s: CdcStreamRecord }> {
    const source = await this.sources.entity(idOrName);
    const c = cdcOf(source);
    const s = c ? await this.store.get(source.id) : null;
    if (!c || !s) throw new NotCdcSourceError(`Source "${source.name}" is not a postgres_cdc source`);
    return { source, c, s };
  }

  async status(idOrName: string): Promise<CdcStatusView> {
    const { source, c, s } = await this.streamOf(idOrName);
    let live: { lagBytes: number; retainedBytes: number } | null | undefined;
    try {
      live = await this.replication.slotLag(c);
    } catch {
      live = undefined;
    }
    return {
      source: source.name,
      state: s.state,
      slot: s.slot,
      publication: s.publication,
      lagBytes: live === undefined ? s.lagBytes : (live?.lagBytes ?? null),
      retainedBytes: live?.retainedBytes ?? null,
      lagAlert: live ? live.lagBytes > c.lagAlertBytes : s.lagAlert,
      confirmedLsn: s.confirmedLsn,
      lastChangeAt: s.lastChangeAt?.toISOString() ?? null,
      lastAppliedAt: s.lastAppliedAt?.toISOString() ?? null,
      changesRead: s.changesRead,
      changesApplied: s.changesApplied,
      changesDeduplicated: s.changesDeduplicated,
      deadLetters: s.deadLetters,
      consumer: s.leaseOwner,
      error: s.errorCode ? { code: s.errorCode, message: s.errorMessage ?? '' } : null,
    };
  }

  /** Stops the consumer (its lease is given up); the slot keeps the changes up to maxSlotBytes. */
  async pause(idOrName: string): Promise<CdcStatusView> {
    const { source } = await this.streamOf(idOrName);
    await this.store.setState(source.id, 'paused', ['snapshotting', 'streaming']);
    return this.status(source.id);
  }

  /** A paused or failed stream goes on from its confirmed LSN (or snapshots again when it has none). */
  async resume(idOrName: string): Promise<CdcStatusView> {
    const { source } = await this.streamOf(idOrName);
    await this.store.setState(source.id, 'streaming', ['paused', 'failed']);
    return this.status(source.id);
  }
}
