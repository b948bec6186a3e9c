import { SourceOrmEntity } from './infrastructure/source.orm-entity';
import { RunOrmEntity } from './infrastructure/run.orm-entity';
import { DeadLetterOrmEntity } from './infrastructure/dead-letter.orm-entity';
import { InboxFileOrmEntity } from './infrastructure/inbox-file.orm-entity';
import { CdcStreamOrmEntity } from './infrastructure/cdc-stream.orm-entity';
import { CdcDeadLetterOrmEntity } from './infrastructure/cdc-dead-letter.orm-entity';

/** TypeORM entities of the ingestion slice, schema "ingestion" (the table generator adds to this list). */
export const INGESTION_ENTITIES: Function[] = [
  SourceOrmEntity,
  RunOrmEntity,
  DeadLetterOrmEntity,
  InboxFileOrmEntity,
  CdcStreamOrmEntity,
  CdcDeadLetterOrmEntity,
];
