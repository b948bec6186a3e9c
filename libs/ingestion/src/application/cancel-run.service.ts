import { Inject, Injectable, Logger } from '@nestjs/common';
import { RUN_LEDGER, RunLedger } from './ports/run-ledger.port';
import { RunEventsPublisher } from './run-events.publisher';
import { findRun, runView, RunView } from './run.views';
import { SourcesService } from './sources.service';
import { RunWorkerService } from './run-worker.service';

/**
 * cancel-run: a queued run is failed at once (`INGESTION.CANCELLED`, its ABORT event with it); a
 * running one is asked to stop, and its worker stops at its next heartbeat before anything is
 * published (the publish is one transaction: a cancel that comes during it is too late, and the
 * run succeeds). An ended run stays as it ended.
 */
@Injectable()
export class CancelRunService {
  private readonly log = new Logger('ingestion');

  constructor(
    @Inject(RUN_LEDGER) private readonly ledger: RunLedger,
    private readonly sources: SourcesService,
    private readonly events: RunEventsPublisher,
    private readonly worker: RunWorkerService,
  ) {}

  async cancel(id: string): Promise<RunView> {
    await findRun(this.ledger, id); // INGESTION.RUN_NOT_FOUND
    const message = 'cancelled before it started';
    const queued = await this.ledger.transaction(async (tx) => {
      const r = await this.ledger.cancelQueued(tx, id, message);
      if (r) {
        const source = await this.sources.entity(r.sourceId).catch(() => null);
        if (source)
          await this.events.publish(tx, id, source, 'ABORT', {
            error: { code: 'INGESTION.CANCELLED', message },
            ...(r.parent ? { parent: r.parent } : {}),
          });
      }
      return r;
    });
    if (queued) this.log.warn(`run ${id}: cancelled before it started`);
    else if (await this.ledger.requestCancel(id)) {
      this.log.warn(`run ${id}: cancel requested`);
      this.worker.cancelLocal(id); // at once when it runs here; elsewhere at its worker's next heartbeat
    }
    return runView(await findRun(this.ledger, id));
  }
}
