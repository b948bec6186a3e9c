import { MigrationInterface, QueryRunner } from 'typeorm';

/** platform schema and platform.api_keys (hashed API keys with a role). */
export class PlatformApiKeys1763750000000 implements MigrationInterface {
  name = 'PlatformApiKeys1763750000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS "platform"`);
    await q.query(`
      CREATE TABLE "platform"."api_keys" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" character varying(100) NOT NULL,
        "role" character varying(16) NOT NULL,
        "key_hash" character(64) NOT NULL,
        "key_prefix" character varying(16) NOT NULL,
        "created_by" character varying(100),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "last_used_at" TIMESTAMP WITH TIME ZONE,
        "revoked_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_api_keys" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_api_keys_key_hash" UNIQUE ("key_hash"),
        CONSTRAINT "CHK_api_keys_role" CHECK ("role" IN ('admin', 'editor', 'viewer'))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "platform"."api_keys"`);
    await q.query(`DROP SCHEMA IF EXISTS "platform"`);
  }
}
