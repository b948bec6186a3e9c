import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { ProblemResponseDto } from '../errors/problem.dto';
import { DatabaseProbe } from './database-probe';

@ApiTags('platform')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly probe: DatabaseProbe,
  ) {}

  @Get()
  @Public()
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness and database reachability; public' })
  @ApiOkResponse({
    description: 'Healthy',
    schema: {
      example: {
        status: 'ok',
        info: { database: { status: 'up' } },
        error: {},
        details: { database: { status: 'up' } },
      },
    },
  })
  @ApiServiceUnavailableResponse({
    type: ProblemResponseDto,
    description: 'A dependency is down (code PLATFORM.UNHEALTHY)',
  })
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      async () => {
        const db = this.indicators.check('database');
        try {
          await this.probe.ping(2000);
          return db.up();
        } catch (e) {
          return db.down({ message: (e as Error).message });
        }
      },
    ]);
  }
}
