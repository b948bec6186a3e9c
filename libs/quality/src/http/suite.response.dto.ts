import { ApiProperty } from '@nestjs/swagger';
import { SuiteRequestDto } from './suite.request.dto';

export class SuiteResponseDto extends SuiteRequestDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class SuiteListResponseDto {
  @ApiProperty({ type: [SuiteResponseDto] }) items: SuiteResponseDto[];
}

export class SuiteSqlResponseDto {
  @ApiProperty({ description: 'the one scan for every row-wise and aggregate expectation' }) scan: string;
  @ApiProperty({ type: [Object] }) params: unknown[];
  @ApiProperty({ type: [Object], description: 'grouped queries (uniqueness, distinct sets)' }) queries: {
    expectation: number;
    sql: string;
    params: unknown[];
  }[];
}
