import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * platform.audit_log: one row per mutating API request (POST, PUT, PATCH, DELETE: accepted,
 * refused or failed) and per mutating `weir` command: who (the key id, or `cli:<os user>`), what
 * (method, route template, path, resource id, the redacted request body), when, how long and how
 * it ended. Kept WEIR_AUDIT_RETENTION_DAYS (default 365) by the retention sweep.
 */
export class PlatformAuditLog1764060000002 implements MigrationInterface {
  name = 'PlatformAuditLog1764060000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "platform"."audit_log" (
        "id" BIGSERIAL NOT NULL,
        "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "actor" character varying(200) NOT NULL,
        "actor_name" character varying(200),
        "method" character varying(10) NOT NULL,
        "route" character varying(500),
        "path" character varying(2000) NOT NULL,
        "resource_id" character varying(500),
        "diff" jsonb,
        "status" integer,
        "outcome" character varying(10) NOT NULL,
        "error_code" character varying(100),
        "duration_ms" integer NOT NULL,
        "request_id" character varying(128),
        CONSTRAINT "PK_audit_log" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_audit_log_outcome" CHECK ("outcome" IN ('ok', 'refused', 'failed'))
      )`);
    await q.query(`CREATE INDEX "IDX_audit_log_at" ON "platform"."audit_log" ("at", "id") `);
    await q.query(`CREATE INDEX "IDX_audit_log_actor_at" ON "platform"."audit_log" ("actor", "at") `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "platform"."audit_log"`);
  }
}
