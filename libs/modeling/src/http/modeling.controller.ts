import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Type } from 'class-transformer';
import type { Request, Response } from 'express';
import {
  CurrentPrincipal,
  InUseProblemDto,
  Optional,
  type Principal,
  ProblemResponseDto,
  seesPii,
  validateAs,
} from '@weir/platform';
import { ModelingService } from '../application/modeling.service';
import { MODELING_CONFIG, ModelingConfig } from '../modeling.config';
import { readArchiveBody } from '../infrastructure/project-archive.extractor';
import { BadSelectorError } from '../modeling.errors';

export class RegisterProjectRequestDto {
  @ApiProperty({
    example: 'jaffle_shop',
    description: 'Project directory, relative to WEIR_PROJECTS_ROOT ($WEIR_DATA_DIR/projects)',
  })
  @IsString()
  @Length(1, 1000)
  path: string;
  @ApiPropertyOptional({ example: 'analytics', description: "Models' default warehouse schema" })
  @Optional()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/)
  modelSchema?: string;
}

export class ArchiveQueryDto {
  @ApiPropertyOptional({ example: 'analytics' })
  @Optional()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/)
  modelSchema?: string;
}

export class BuildRequestDto {
  @ApiProperty({ example: 'jaffle_shop' }) @IsString() project: string;
  @ApiPropertyOptional({
    example: '+orders',
    description: 'dbt selection: name, +name, name+, tag:x (space-separated union); default all',
  })
  @Optional()
  @IsString()
  @MaxLength(1000)
  select?: string;
  @ApiPropertyOptional({ default: false }) @Optional() @IsBoolean() fullRefresh?: boolean;
  @ApiPropertyOptional({
    default: false,
    description:
      'replace relations the catalog records for another project or for ingestion (recorded as a catalog change); without it such a step fails with MODELING.RELATION_OWNED_ELSEWHERE',
  })
  @Optional()
  @IsBoolean()
  takeOver?: boolean;
  @ApiPropertyOptional({
    enum: ['build', 'run', 'seed', 'test', 'snapshot', 'compile', 'docs generate'],
    description:
      "run the build with the dbt runtime, dbt's semantics: this command over dbt's selection (graph operators, tag:, path:, config.*:, resource_type:, source:, state:…); its steps are dbt's nodes (tests included) and its artifacts are served at /builds/:id/artifacts/:name. Without it, Weir's own build (audited swap, catalog, contracts)",
  })
  @Optional()
  @IsIn(['build', 'run', 'seed', 'test', 'snapshot', 'compile', 'docs generate'])
  command?: 'build' | 'run' | 'seed' | 'test' | 'snapshot' | 'compile' | 'docs generate';
  @ApiPropertyOptional({ description: "dbt's --exclude (with command)", example: 'tag:nightly' })
  @Optional()
  @IsString()
  @MaxLength(1000)
  exclude?: string;
  @ApiPropertyOptional({ description: "dbt's --vars (with command)", example: { start_date: '2026-01-01' } })
  @Optional()
  @IsObject()
  vars?: Record<string, unknown>;
  @ApiPropertyOptional({ description: "dbt's --fail-fast (with command)", default: false })
  @Optional()
  @IsBoolean()
  failFast?: boolean;
}

export class BuildListQueryDto {
  @ApiPropertyOptional({ description: 'a project id or name' }) @Optional() @IsString() project?: string;
  @ApiPropertyOptional({ enum: ['running', 'succeeded', 'failed'] })
  @Optional()
  @IsIn(['running', 'succeeded', 'failed'])
  status?: string;
  @ApiPropertyOptional({ default: 50, maximum: 500 })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
  @ApiPropertyOptional({ description: 'the `next` of the previous page (a startedAt)' })
  @Optional()
  @IsISO8601()
  before?: string;
}

class BuildStepCountsDto {
  @ApiProperty() total: number;
  @ApiProperty() succeeded: number;
  @ApiProperty() failed: number;
  @ApiProperty() skipped: number;
  @ApiProperty() running: number;
  @ApiProperty() pending: number;
}

class BuildSummaryDto {
  @ApiProperty() id: string;
  @ApiProperty() projectId: string;
  @ApiProperty({ type: String, nullable: true, description: "the project's name" }) project: string | null;
  @ApiProperty({ type: String, nullable: true }) selector: string | null;
  @ApiProperty({ type: String, nullable: true }) command: string | null;
  @ApiProperty({ enum: ['running', 'succeeded', 'failed'] }) status: string;
  @ApiProperty() startedAt: string;
  @ApiProperty({ type: String, nullable: true }) finishedAt: string | null;
  @ApiProperty({ type: BuildStepCountsDto }) steps: BuildStepCountsDto;
}

export class BuildListResponseDto {
  @ApiProperty({ type: [BuildSummaryDto] }) items: BuildSummaryDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as before for the next page' }) next: string | null;
}

export class CompiledQueryDto {
  @ApiPropertyOptional() @Optional() @IsString() project?: string;
}

class NodeDto {
  @ApiProperty() id: string;
  @ApiProperty() kind: string;
  @ApiProperty() name: string;
  @ApiProperty() relation: string;
  @ApiPropertyOptional() materialized?: string;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty({ type: [String] }) dependsOn: string[];
}

class ProjectSummaryDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() rootPath: string;
}

export class ProjectListResponseDto {
  @ApiProperty({ type: [ProjectSummaryDto] }) items: ProjectSummaryDto[];
}

export class ModelListResponseDto {
  @ApiProperty({ type: [NodeDto], description: 'models and snapshots, in build order' }) items: NodeDto[];
}

export class ProjectResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() rootPath: string;
  @ApiProperty() modelSchema: string;
  @ApiProperty({ type: [NodeDto] }) nodes: NodeDto[];
  @ApiProperty({ type: [String], description: 'build order' }) order: string[];
}

class StepDto {
  @ApiProperty() node: string;
  @ApiProperty({ type: String, nullable: true }) materialized: string | null;
  @ApiProperty({ enum: ['pending', 'running', 'succeeded', 'failed', 'skipped'] }) status: string;
  @ApiProperty({ type: String, nullable: true }) startedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) finishedAt: string | null;
  @ApiProperty({ type: Number, nullable: true }) rowsAffected: number | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'stable code of a failed step (e.g. MODELING.RELATION_OWNED_ELSEWHERE)',
  })
  errorCode: string | null;
  @ApiProperty({ type: Object, nullable: true }) refs: Record<string, unknown> | null;
}

export class BuildResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() projectId: string;
  @ApiProperty({ type: String, nullable: true }) selector: string | null;
  @ApiProperty({ type: String, nullable: true, description: "dbt's command when the dbt runtime ran the build" })
  command: string | null;
  @ApiProperty({ type: Object, nullable: true, description: 'exclude, vars, failFast of a dbt build' })
  dbtArgs: Record<string, unknown> | null;
  @ApiProperty() fullRefresh: boolean;
  @ApiProperty() takeOver: boolean;
  @ApiProperty({ enum: ['running', 'succeeded', 'failed'] }) status: string;
  @ApiProperty() startedAt: string;
  @ApiProperty({ type: String, nullable: true }) finishedAt: string | null;
  @ApiProperty({ type: [StepDto] }) steps: StepDto[];
}

export class CompiledResponseDto {
  @ApiProperty() project: string;
  @ApiProperty() model: string;
  @ApiProperty() relation: string;
  @ApiProperty() materialized: string;
  @ApiProperty() sql: string;
}

@ApiTags('modeling')
@ApiBearerAuth()
@Controller('api/modeling')
export class ModelingController {
  constructor(
    private readonly modeling: ModelingService,
    @Inject(MODELING_CONFIG) private readonly config: ModelingConfig,
  ) {}

  @Post('projects')
  @ApiOperation({
    summary: 'Register (or refresh) a dbt-layout project; it must compile',
    description:
      'JSON `{path, modelSchema?}`: a directory under WEIR_PROJECTS_ROOT. Or an archive: a .tar / .tar.gz as the body ' +
      '(Content-Type application/gzip, application/x-tar or application/octet-stream) or as a multipart "file" field, ' +
      'with `?modelSchema=`; extracted to WEIR_PROJECTS_ROOT/.uploads/<project name> once it compiles. ' +
      'Its `pipelines/*.yml` are defined too; an export step with `pii: clear` needs an admin key (else 403 PLATFORM.FORBIDDEN, nothing registered).',
  })
  @ApiConsumes(
    'application/json',
    'application/gzip',
    'application/x-tar',
    'application/octet-stream',
    'multipart/form-data',
  )
  @ApiBody({ type: RegisterProjectRequestDto })
  @ApiOkResponse({ type: ProjectResponseDto })
  async register(@Req() req: Request, @CurrentPrincipal() p?: Principal): Promise<ProjectResponseDto> {
    const type = String(req.headers['content-type'] ?? '');
    if (/\bjson\b/.test(type)) {
      const body = await validateAs(RegisterProjectRequestDto, req.body);
      return this.modeling.register(body.path, { modelSchema: body.modelSchema, seesPii: seesPii(p) });
    }
    const q = await validateAs(ArchiveQueryDto, req.query, 'query');
    const archive = await readArchiveBody(req, this.config.archive.maxBytes);
    return this.modeling.registerArchive(archive, { modelSchema: q.modelSchema, seesPii: seesPii(p) });
  }

  @Get('projects')
  @ApiOperation({ summary: 'List the registered projects' })
  @ApiOkResponse({ type: ProjectListResponseDto })
  async list(): Promise<ProjectListResponseDto> {
    return { items: await this.modeling.list() };
  }

  @Get('projects/:id')
  @ApiOperation({ summary: 'A project: its model schema, nodes (models, seeds, tests) and build order' })
  @ApiOkResponse({ type: ProjectResponseDto })
  get(@Param('id') id: string): Promise<ProjectResponseDto> {
    return this.modeling.get(id);
  }

  @Delete('projects/:id')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Delete a project (soft: its builds stay readable, its name is free; its files and the relations it built stay); refused while a build of it runs or a pipeline step builds it',
  })
  @ApiNoContentResponse({ description: 'Deleted; no body' })
  @ApiNotFoundResponse({ type: ProblemResponseDto, description: 'MODELING.PROJECT_NOT_FOUND' })
  @ApiConflictResponse({
    type: InUseProblemDto,
    description: 'MODELING.PROJECT_IN_USE, with `dependents`: its running builds, the pipeline steps that build it',
  })
  async remove(@Param('id') id: string): Promise<void> {
    await this.modeling.remove(id);
  }

  @Get('projects/:id/models')
  @ApiOperation({
    summary: "A project's models (snapshots too), in build order: relation, materialization, tags, dependencies",
  })
  @ApiOkResponse({ type: ModelListResponseDto })
  async models(@Param('id') id: string): Promise<ModelListResponseDto> {
    return { items: await this.modeling.models(id) };
  }

  @Get('models/:name/compiled')
  @ApiOperation({ summary: 'The compiled SQL of a model' })
  @ApiOkResponse({ type: CompiledResponseDto })
  compiled(@Param('name') name: string, @Query() q: CompiledQueryDto): Promise<CompiledResponseDto> {
    return this.modeling.compiledSql(name, q.project);
  }

  @Post('builds')
  @ApiOperation({ summary: 'Build a selection of the DAG (202 with the build and its pending steps)' })
  @ApiAcceptedResponse({ type: BuildResponseDto })
  async build(@Body() body: BuildRequestDto, @Res({ passthrough: true }) res: Response): Promise<BuildResponseDto> {
    res.status(202);
    if (
      body.command === undefined &&
      (body.exclude !== undefined || body.vars !== undefined || body.failFast !== undefined)
    )
      throw new BadSelectorError('exclude, vars and failFast need a command (dbt builds)');
    return this.modeling.build(body.project, body.select, {
      fullRefresh: body.fullRefresh,
      takeOver: body.takeOver,
      command: body.command,
      exclude: body.exclude,
      vars: body.vars,
      failFast: body.failFast,
    });
  }

  @Get('builds/:id/artifacts/:name')
  @ApiOperation({
    summary:
      'An artifact of a dbt build as dbt wrote it: manifest.json (v12), run_results.json (v6), catalog.json (v1, docs generate)',
  })
  @ApiOkResponse({ schema: { type: 'object' } })
  async artifact(@Param('id') id: string, @Param('name') name: string, @Res() res: Response): Promise<void> {
    const text = await this.modeling.buildArtifact(id, name);
    res.status(200).type('application/json').send(text);
  }

  @Get('builds')
  @ApiOperation({
    summary: 'Builds, newest first, with their step counts (filters: project, status; next page: before)',
  })
  @ApiOkResponse({ type: BuildListResponseDto })
  listBuilds(@Query() q: BuildListQueryDto): Promise<BuildListResponseDto> {
    return this.modeling.listBuilds({ project: q.project, status: q.status, limit: q.limit, before: q.before });
  }

  @Get('builds/:id')
  @ApiOperation({ summary: 'A build: its status and steps (one per model, seed, snapshot or test)' })
  @ApiOkResponse({ type: BuildResponseDto })
  getBuild(@Param('id') id: string): Promise<BuildResponseDto> {
    return this.modeling.getBuild(id);
  }

  @Post('builds/:id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Cancel a build: no step starts any more (running ones end, each atomic); it ends failed with MODELING.CANCELLED',
  })
  @ApiOkResponse({ type: BuildResponseDto })
  cancelBuild(@Param('id') id: string): Promise<BuildResponseDto> {
    return this.modeling.cancelBuild(id);
  }
}
