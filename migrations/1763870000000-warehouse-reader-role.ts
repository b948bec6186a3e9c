import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The role Weir's checks read as: `weir_reader`, NOLOGIN, with USAGE and SELECT on the data-plane
 * schemas only (never platform, catalog, ingestion, quality, modeling, lineage, orchestration),
 * and by default SELECT on the tables the service's own role creates later. Custom SQL,
 * row_condition fragments and previews run under it (SET LOCAL ROLE) in a read-only transaction,
 * so they reach neither Weir's own tables nor the server's files (pg_read_file, pg_ls_dir,
 * lo_import and COPY … TO PROGRAM need superuser or pg_* roles it does not have). Without the
 * right to create roles, the migration says so and changes nothing; Weir then logs a warning.
 */
export class WarehouseReaderRole1763870000000 implements MigrationInterface {
  name = 'WarehouseReaderRole1763870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      DECLARE s text;
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'weir_reader') THEN
          BEGIN
            CREATE ROLE weir_reader NOLOGIN;
          EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL; -- another database of this cluster made it meanwhile
            WHEN insufficient_privilege THEN
              RAISE NOTICE 'weir: cannot create role weir_reader (no CREATEROLE); checks will run as %', current_user;
              RETURN;
          END;
        END IF;
        IF NOT pg_has_role(current_user, 'weir_reader', 'MEMBER') THEN
          EXECUTE format('GRANT weir_reader TO %I', current_user);
        END IF;
        ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO weir_reader;
        FOR s IN SELECT nspname FROM pg_namespace
                  WHERE nspname NOT IN ('platform', 'catalog', 'ingestion', 'quality', 'modeling', 'lineage', 'orchestration', 'information_schema')
                    AND nspname NOT LIKE 'pg\\_%'
        LOOP
          EXECUTE format('GRANT USAGE ON SCHEMA %I TO weir_reader', s);
          EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO weir_reader', s);
        END LOOP;
        REVOKE SELECT ON public.migrations FROM weir_reader;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'weir_reader') THEN
          ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM weir_reader;
        END IF;
      END $$`);
  }
}
