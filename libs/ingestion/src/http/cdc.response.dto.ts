import { ApiProperty } from '@nestjs/swagger';

class CdcErrorDto {
  @ApiProperty({ example: 'INGESTION.CDC_SCHEMA_DRIFT' }) code: string;
  @ApiProperty() message: string;
}

/** The status of a postgres_cdc source's stream (GET, pause and resume answer it). */
export class CdcStatusResponseDto {
  @ApiProperty({ description: 'the source name' }) source: string;
  @ApiProperty({ example: 'streaming' }) state: string;
  @ApiProperty({ description: 'the replication slot on the source server' }) slot: string;
  @ApiProperty() publication: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: "WAL bytes between the source server's position and the slot's confirmed one",
  })
  lagBytes: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'WAL the slot keeps on the source' })
  retainedBytes: number | null;
  @ApiProperty({ description: 'true while the lag is above the alert threshold' }) lagAlert: boolean;
  @ApiProperty({ type: String, nullable: true }) confirmedLsn: string | null;
  @ApiProperty({ type: String, nullable: true }) lastChangeAt: string | null;
  @ApiProperty({ type: String, nullable: true }) lastAppliedAt: string | null;
  @ApiProperty() changesRead: number;
  @ApiProperty() changesApplied: number;
  @ApiProperty() changesDeduplicated: number;
  @ApiProperty() deadLetters: number;
  @ApiProperty({ type: String, nullable: true, description: 'the instance holding the consumer lease' })
  consumer: string | null;
  @ApiProperty({ type: CdcErrorDto, nullable: true }) error: CdcErrorDto | null;
}
