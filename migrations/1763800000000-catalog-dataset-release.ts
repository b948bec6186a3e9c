import { MigrationInterface, QueryRunner } from 'typeorm';

/** catalog.datasets.release: the published version of a versioned dataset (breaking changes need a new one). */
export class CatalogDatasetRelease1763800000000 implements MigrationInterface {
  name = 'CatalogDatasetRelease1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "catalog"."datasets" ADD "release" integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "catalog"."datasets" DROP COLUMN "release"`);
  }
}
