import { Module } from '@nestjs/common';
import { PassThroughQualityGate, QUALITY_GATE } from './application/quality-gate.port';

/** The quality slice. For now it provides the {@link QUALITY_GATE} port with a pass-through gate. */
@Module({
  providers: [{ provide: QUALITY_GATE, useClass: PassThroughQualityGate }],
  exports: [QUALITY_GATE],
})
export class QualityModule {}
