import { Injectable } from '@nestjs/common';
import type { BuildView } from './modeling.views';
import type { ModelBuildsPort, StartModelBuild } from './ports/model-builds.port';
import { StartBuildService } from './start-build.service';

/** MODEL_BUILDS: builds as other slices start and follow them. */
@Injectable()
export class ModelBuildsService implements ModelBuildsPort {
  constructor(private readonly builds: StartBuildService) {}

  start(req: StartModelBuild): Promise<BuildView> {
    return this.builds.build(req.project, req.select, {
      fullRefresh: req.fullRefresh,
      takeOver: req.takeOver,
      parent: req.parent,
    });
  }

  get(id: string): Promise<BuildView> {
    return this.builds.getBuild(id);
  }

  cancel(id: string): Promise<BuildView> {
    return this.builds.cancelBuild(id);
  }

  waitFor(id: string, timeoutMs?: number): Promise<BuildView> {
    return this.builds.waitForBuild(id, timeoutMs);
  }
}
