import { Injectable } from '@nestjs/common';
import { BuildView, ModelingService } from './modeling.service';
import type { ModelBuildsPort, StartModelBuild } from './ports/model-builds.port';

/** MODEL_BUILDS: builds as other slices start and follow them. */
@Injectable()
export class ModelBuildsService implements ModelBuildsPort {
  constructor(private readonly modeling: ModelingService) {}

  start(req: StartModelBuild): Promise<BuildView> {
    return this.modeling.build(req.project, req.select, { fullRefresh: req.fullRefresh, takeOver: req.takeOver });
  }

  get(id: string): Promise<BuildView> {
    return this.modeling.getBuild(id);
  }

  waitFor(id: string, timeoutMs?: number): Promise<BuildView> {
    return this.modeling.waitForBuild(id, timeoutMs);
  }
}
