import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { WEIR_CONFIG, WeirConfig } from '@weir/platform';
import type { CompiledProject } from '../domain/compile';
import type { Project } from '../domain/project';
import { ProjectCompileError, ProjectCompiler } from '../infrastructure/project.compiler';
import type { ProjectOrmEntity } from '../infrastructure/project.orm-entity';
import { MODELING_CONFIG, ModelingConfig } from '../modeling.config';
import { CompileFailedError } from '../modeling.errors';

/** compile-project: a project's files to its compiled DAG, in a bounded worker thread. */
@Injectable()
export class CompileProjectService implements OnApplicationShutdown {
  private readonly compiler: ProjectCompiler;

  constructor(@Inject(WEIR_CONFIG) config: WeirConfig, @Inject(MODELING_CONFIG) modelingConfig: ModelingConfig) {
    this.compiler = new ProjectCompiler({
      maxMs: config.compileMaxMs,
      maxMb: config.compileMaxMb,
      templateMaxMs: config.templateMaxMs,
      env: modelingConfig.templateEnv,
    });
  }

  /** Loads and compiles a project in the compile worker (templates never render on the request's event loop). */
  async compile(
    p: Pick<ProjectOrmEntity, 'rootPath' | 'modelSchema'>,
    existing?: Set<string>,
  ): Promise<{ project: Project; compiled: CompiledProject }> {
    try {
      return await this.compiler.compile(p.rootPath, p.modelSchema, existing);
    } catch (e) {
      if (e instanceof ProjectCompileError) throw new CompileFailedError(e.message);
      throw e;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.compiler.close();
  }
}
