import { ApiKeyOrmEntity } from './auth/api-key.orm-entity';
import { OutboxOrmEntity } from './outbox/outbox.orm-entity';
import { AuditLogOrmEntity } from './audit/audit-log.orm-entity';

/** TypeORM entities of the platform slice (the table generator adds to this list). */
export const PLATFORM_ENTITIES: Function[] = [ApiKeyOrmEntity, OutboxOrmEntity, AuditLogOrmEntity];
