import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DatasetContractDto } from './dataset.request.dto';

export class LastLoadDto {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: String, nullable: true }) runId: string | null;
  @ApiProperty({ type: Number, nullable: true }) rows: number | null;
}

export class DatasetResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ example: 'raw' }) schema: string;
  @ApiProperty() table: string;
  @ApiProperty({ type: String, nullable: true }) description: string | null;
  @ApiProperty({ type: String, nullable: true }) owner: string | null;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty({ type: DatasetContractDto }) contract: DatasetContractDto;
  @ApiProperty() version: number;
  @ApiProperty({ type: Number, nullable: true, description: 'published version of a versioned dataset' }) release:
    number | null;
  @ApiProperty({ type: LastLoadDto, nullable: true }) lastLoad: LastLoadDto | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class SchemaVersionDto {
  @ApiProperty() version: number;
  @ApiProperty({ enum: ['initial', 'none', 'additive', 'widening', 'breaking'] }) kind: string;
  @ApiProperty({ type: [String] }) details: string[];
  @ApiProperty() changedBy: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: DatasetContractDto }) contract: DatasetContractDto;
}

export class DatasetDetailResponseDto extends DatasetResponseDto {
  @ApiProperty({ type: Number, nullable: true, description: 'Rows in the warehouse table; null before the first load' })
  rowCount: number | null;
  @ApiProperty({ description: 'false when the count is the planner estimate (table too large to count in 2 s)' })
  rowCountExact: boolean;
  @ApiProperty() tableExists: boolean;
  @ApiProperty({ type: [SchemaVersionDto], description: 'Newest first' }) versions: SchemaVersionDto[];
}

export class ContractChangeDto {
  @ApiProperty({ enum: ['none', 'additive', 'widening', 'breaking'] }) kind: string;
  @ApiProperty({ type: [String] }) details: string[];
}

export class UpdateDatasetResponseDto extends DatasetResponseDto {
  @ApiPropertyOptional({ type: ContractChangeDto }) change?: ContractChangeDto;
}

export class DatasetListResponseDto {
  @ApiProperty({ type: [DatasetResponseDto] }) items: DatasetResponseDto[];
}

export class DatasetDeletedResponseDto {
  @ApiProperty({ example: 'orders' }) name: string;
  @ApiProperty({ example: 'raw.orders', description: 'The warehouse relation of the dataset' }) relation: string;
  @ApiProperty({ description: 'Whether the relation was dropped (dropTable=true) or kept' }) tableDropped: boolean;
  @ApiProperty({ type: [String], example: ['raw.orders'], description: 'The relations dropped' }) dropped: string[];
}
