import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API-key controls: an optional expiry (`expires_at`), rotation (`rotated_at`; the secret replaced
 * by a rotation may keep working until `previous_valid_until`, found by `previous_key_hash`).
 * `last_used_at` was there from the start.
 */
export class PlatformApiKeyControls1764060000003 implements MigrationInterface {
  name = 'PlatformApiKeyControls1764060000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "platform"."api_keys"
        ADD "expires_at" TIMESTAMP WITH TIME ZONE,
        ADD "rotated_at" TIMESTAMP WITH TIME ZONE,
        ADD "previous_key_hash" character(64),
        ADD "previous_valid_until" TIMESTAMP WITH TIME ZONE`);
    await q.query(
      `CREATE INDEX "IDX_api_keys_previous_key_hash" ON "platform"."api_keys" ("previous_key_hash") WHERE "previous_key_hash" IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "platform"."IDX_api_keys_previous_key_hash"`);
    await q.query(`
      ALTER TABLE "platform"."api_keys"
        DROP COLUMN "previous_valid_until",
        DROP COLUMN "previous_key_hash",
        DROP COLUMN "rotated_at",
        DROP COLUMN "expires_at"`);
  }
}
