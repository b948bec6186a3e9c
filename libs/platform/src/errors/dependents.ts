import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ProblemResponseDto } from './problem.dto';

/**
 * Something that uses a resource and stops it from being deleted: each slice's `…_IN_USE` refusal
 * (409) lists them as problem+json `dependents`, so that the caller knows what to change first.
 */
export interface Dependent {
  /** What it is: `source`, `suite`, `model`, `project`, `pipeline`, `pipeline_run`, `ingestion_run`, `build`, `view`, `job` … */
  kind: string;
  /** Its name (a run: its id). */
  name: string;
  /** How it depends, in words (`pipeline step "load" ingests it`). */
  detail: string;
  /**
   * True when `?force=true` deletes anyway (and says what happens to it): runs a forced delete
   * cancels, jobs of other systems known only from their lineage. Weir's own definitions that use
   * the resource (sources, suites, models, pipeline steps) are never overridden.
   */
  overridable?: boolean;
}

/** How many dependents a refusal names in its `detail` (all of them are in `dependents`). */
const NAMED = 5;

/** `Dataset "orders" is in use: source "orders_csv" (loads it); suite "checks" (checks it)`. */
export function describeDependents(what: string, dependents: Dependent[], hint?: string): string {
  const named = dependents
    .slice(0, NAMED)
    .map((d) => `${d.kind} "${d.name}" (${d.detail})`)
    .join('; ');
  const more = dependents.length > NAMED ? ` and ${dependents.length - NAMED} more` : '';
  return `${what} is in use: ${named}${more}${hint ? `; ${hint}` : ''}`;
}

/** OpenAPI shape of one {@link Dependent}. */
export class DependentDto {
  @ApiProperty({ example: 'source' }) kind: string;
  @ApiProperty({ example: 'orders_csv' }) name: string;
  @ApiProperty({ example: 'loads it' }) detail: string;
  @ApiPropertyOptional({ description: 'true: ?force=true deletes anyway (a run it cancels, a job of another system)' })
  overridable?: boolean;
}

/** OpenAPI shape of an `…_IN_USE` refusal: problem+json with what depends on the resource. */
export class InUseProblemDto extends ProblemResponseDto {
  @ApiProperty({ type: [DependentDto], description: 'What uses the resource (delete or change these first)' })
  dependents: DependentDto[];
}
