import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  liveStaleMs,
  Outbox,
  periodic,
  PeriodicTask,
  rowsOf,
  RUN_EVENTS_TOPIC,
  WEIR_CONFIG,
  WeirConfig,
} from '@weir/platform';
import type { CompiledProject } from '../domain/compile';
import { ProjectOrmEntity } from '../infrastructure/project.orm-entity';
import { buildEvent, stepEvent } from './build-events';
import { BuildRunnerService } from './build-runner.service';
import { CompileProjectService } from './compile-project.service';

/**
 * build-recovery: workers fail the builds a dead process left running (no heartbeat for
 * WEIR_RUN_STALE_SECONDS), at start and then periodically; shutdown waits for this process's builds.
 */
@Injectable()
export class BuildRecoveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('modeling');
  /** A running build whose process has not said it is alive for this long is taken as interrupted (WEIR_RUN_STALE_SECONDS). */
  staleMs: number;
  /** How often workers look for builds a dead process left running. */
  recoverEveryMs: number;
  private recovery?: PeriodicTask;
  private readonly roles: ReadonlySet<string>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly outbox: Outbox,
    private readonly compiler: CompileProjectService,
    private readonly runner: BuildRunnerService,
    @Inject(WEIR_CONFIG) config: WeirConfig,
  ) {
    this.roles = config.roles;
    this.staleMs = config.runStaleMs;
    this.recoverEveryMs = Math.max(5000, this.staleMs / 2);
  }

  /** Workers fail the builds a dead process left running: at start, then every {@link recoverEveryMs}. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.roles.has('worker')) return;
    await this.recover().catch((e: unknown) =>
      this.log.error(`recovering interrupted builds: ${(e as Error).message}`),
    );
    this.recovery = periodic({
      everyMs: () => this.recoverEveryMs,
      run: () => this.recover(liveStaleMs(this.staleMs)),
      onError: (e) => this.log.error(`recovering interrupted builds: ${e.message}`),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.recovery?.stop();
    await Promise.allSettled([...this.runner.running]);
  }

  /**
   * Fails the builds whose process stopped saying it is alive (crash, kill): the build failed, its
   * running steps failed and its pending steps skipped, with FAIL events for the build and the steps
   * that had started, all in one transaction. Returns the builds failed.
   */
  async recover(staleMs = this.staleMs): Promise<string[]> {
    const message =
      'interrupted: the process running the build stopped (crash or kill) before it ended; build it again';
    const failed = await this.ds.transaction(async (em) => {
      const rows = rowsOf<{ id: string; project_id: string; started: string[] | null }>(
        await em.query(
          `WITH b AS (UPDATE modeling.builds SET status = 'failed', finished_at = now()
                       WHERE status = 'running' AND heartbeat_at < now() - $1::interval RETURNING id, project_id),
                s AS (UPDATE modeling.build_steps st SET status = CASE WHEN st.status = 'running' THEN 'failed' ELSE 'skipped' END,
                             finished_at = CASE WHEN st.status = 'running' THEN now() END, error = $2
                        FROM b WHERE st.build_id = b.id AND st.status IN ('running', 'pending') RETURNING st.build_id, st.node_id, st.status)
           SELECT b.id, b.project_id, (SELECT array_agg(s.node_id) FROM s WHERE s.build_id = b.id AND s.status = 'failed') AS started FROM b`,
          [`${staleMs / 1000} seconds`, message],
        ),
      );
      for (const r of rows) {
        const p = await em.getRepository(ProjectOrmEntity).findOneBy({ id: r.project_id });
        let compiled: CompiledProject | undefined;
        try {
          compiled = p ? (await this.compiler.compile(p)).compiled : undefined;
        } catch {
          compiled = undefined; // the project no longer compiles: the build's own event still goes out
        }
        const error = { error: { code: 'MODELING.INTERRUPTED', message } };
        for (const nodeId of r.started ?? []) {
          const n = compiled?.nodes.get(nodeId);
          const ev = n && compiled ? stepEvent(r.id, compiled, n, 'FAIL', error) : undefined;
          if (ev) await this.outbox.publish(em, RUN_EVENTS_TOPIC, ev, `${ev.runId}:FAIL`);
        }
        await this.outbox.publish(
          em,
          RUN_EVENTS_TOPIC,
          buildEvent(r.id, compiled?.name ?? p?.name ?? 'unknown', 'FAIL', error),
          `${r.id}:FAIL`,
        );
      }
      return rows.map((r) => r.id);
    });
    if (failed.length) this.log.warn(`marked ${failed.length} interrupted build(s) failed: ${failed.join(', ')}`);
    return failed;
  }
}
