import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { liveStaleMs, periodic, PeriodicTask, RunStateEvent, WEIR_CONFIG, WeirConfig } from '@weir/platform';
import type { CompiledProject } from '../domain/compile';
import { BUILD_STORE, BuildStore } from './ports/build-store.port';
import { PROJECT_REPOSITORY, ProjectRepository } from './ports/project-repository.port';
import { buildEvent, stepEvent } from './build.events';
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
    @Inject(BUILD_STORE) private readonly store: BuildStore,
    @Inject(PROJECT_REPOSITORY) private readonly projects: ProjectRepository,
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
    const stale = await this.store.failStale(staleMs, message, async (b) => {
      const p = await this.projects.findById(b.projectId, true);
      let compiled: CompiledProject | undefined;
      try {
        compiled = p ? (await this.compiler.compile(p)).compiled : undefined;
      } catch {
        compiled = undefined; // the project no longer compiles: the build's own event still goes out
      }
      const error = { error: { code: 'MODELING.INTERRUPTED', message } };
      const events: RunStateEvent[] = [];
      for (const nodeId of b.started) {
        const n = compiled?.nodes.get(nodeId);
        const ev = n && compiled ? stepEvent(b.id, compiled, n, 'FAIL', error) : undefined;
        if (ev) events.push(ev);
      }
      events.push(
        buildEvent(b.id, compiled?.name ?? p?.name ?? 'unknown', 'FAIL', {
          ...error,
          ...(b.parent ? { parent: b.parent } : {}),
        }),
      );
      return events;
    });
    const failed = stale.map((b) => b.id);
    if (failed.length) this.log.warn(`marked ${failed.length} interrupted build(s) failed: ${failed.join(', ')}`);
    return failed;
  }
}
