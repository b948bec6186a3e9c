import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ForbiddenError } from '@weir/platform';
import { ModelingService, type ProjectCaller } from '@weir/modeling';
import { InvalidPipelineError } from '../orchestration.errors';
import { readPipelineFiles } from '../infrastructure/pipeline-files.reader';
import { PipelinesService } from './pipelines.service';
import { PipelineDependentsService } from './pipeline-dependents.service';

/**
 * project-pipelines: a registered dbt-layout project may hold pipelines (`pipelines/*.yml`, the
 * same keys as the REST JSON). Registering or refreshing the project checks them first — an
 * invalid one refuses the registration with every problem, by file — then defines or changes them
 * (a new version when one changed), as `weir pipelines apply <dir>` does.
 */
@Injectable()
export class ProjectPipelinesService implements OnModuleInit {
  private readonly log = new Logger('orchestration');

  constructor(
    private readonly modeling: ModelingService,
    private readonly pipelines: PipelinesService,
    private readonly dependents: PipelineDependentsService,
  ) {}

  onModuleInit(): void {
    this.modeling.addProjectHook({
      check: (root, _name, caller) => this.check(root, caller),
      registered: (root, name, caller) => this.apply(root, name, caller),
      dependents: (project) => this.dependents.ofProject(project),
    });
  }

  /**
   * Every problem of the project's pipeline files, each with its file; throws ORCHESTRATION.INVALID_PIPELINE.
   * An export step with PII in clear from a caller who does not see PII (an editor key) throws
   * PLATFORM.FORBIDDEN naming the file and the step: the project is not registered.
   */
  async check(root: string, caller: ProjectCaller): Promise<void> {
    const author = { name: null, seesPii: caller.seesPii };
    const problems: string[] = [];
    for (const f of readPipelineFiles(root)) {
      if (f.error !== undefined) {
        problems.push(`${f.file}: ${f.error}`);
        continue;
      }
      try {
        const name = (f.raw as { name?: unknown } | null)?.name;
        const spec = await this.pipelines.validate(f.raw, typeof name === 'string' ? name : undefined);
        this.pipelines.authorize(spec, author, `${f.file}: `);
      } catch (e) {
        if (e instanceof ForbiddenError) throw e;
        const listed = (e as { extra?: { problems?: string[] } }).extra?.problems;
        for (const p of listed ?? [(e as Error).message]) problems.push(`${f.file}: ${p}`);
      }
    }
    if (problems.length)
      throw new InvalidPipelineError(`The project's pipelines are invalid: ${problems.join('; ')}`, { problems });
  }

  async apply(root: string, project: string, caller: ProjectCaller): Promise<void> {
    for (const f of readPipelineFiles(root)) {
      const { pipeline, created } = await this.pipelines.apply(f.raw, {
        name: `project:${project}`,
        seesPii: caller.seesPii,
      });
      this.log.log(
        `project ${project}: ${f.file}: pipeline ${pipeline.name} ${created ? 'created' : `at version ${pipeline.version}`}`,
      );
    }
  }
}
