import { MigrationInterface, QueryRunner } from 'typeorm';

const CONTROL = `('platform', 'catalog', 'ingestion', 'quality', 'modeling', 'lineage', 'orchestration', 'information_schema')`;

/**
 * The role Weir writes the data plane as: `weir_writer`, NOLOGIN, granted to the service's role.
 * It may create schemas, create and use relations in data-plane schemas and read their tables;
 * it has no privilege on Weir's own schemas. Loads run their statements under it (SET ROLE);
 * a model's SQL runs through `platform.weir_write`, and a check's SQL through
 * `platform.weir_read`: SECURITY DEFINER functions owned by the writer and by the reader. Inside
 * such a function PostgreSQL refuses to change the role (`SET ROLE`, `set_config('role', …)`),
 * so SQL written by a user cannot climb back to the service's role, as it could after a plain
 * `SET ROLE`. Neither function may be called by PUBLIC.
 *
 * Without the right to create roles the migration says so and changes nothing; Weir then logs a
 * warning and runs these statements with its own privileges.
 */
export class WarehouseWriterRole1763900000000 implements MigrationInterface {
  name = 'WarehouseWriterRole1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      DECLARE s text;
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'weir_writer') THEN
          BEGIN
            CREATE ROLE weir_writer NOLOGIN;
          EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL; -- another database of this cluster made it meanwhile
            WHEN insufficient_privilege THEN
              RAISE NOTICE 'weir: cannot create role weir_writer (no CREATEROLE); loads and builds will run as %', current_user;
              RETURN;
          END;
        END IF;
        IF NOT pg_has_role(current_user, 'weir_writer', 'MEMBER') THEN
          EXECUTE format('GRANT weir_writer TO %I', current_user);
        END IF;
        EXECUTE format('GRANT CREATE ON DATABASE %I TO weir_writer', current_database());
        ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO weir_writer;
        IF to_regrole('weir_reader') IS NOT NULL THEN
          ALTER DEFAULT PRIVILEGES FOR ROLE weir_writer GRANT SELECT ON TABLES TO weir_reader;
        END IF;
        FOR s IN SELECT nspname FROM pg_namespace
                  WHERE nspname NOT IN ${CONTROL} AND nspname NOT LIKE 'pg\\_%'
        LOOP
          BEGIN
            EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO weir_writer', s);
            EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO weir_writer', s);
          EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'weir: cannot grant weir_writer the use of schema % (not its owner)', s;
          END;
        END LOOP;
        REVOKE ALL ON public.migrations FROM weir_writer;
      END $$`);
    await q.query(`
      DO $$
      BEGIN
        IF to_regrole('weir_writer') IS NULL OR to_regrole('weir_reader') IS NULL THEN
          RETURN;
        END IF;
        CREATE OR REPLACE FUNCTION platform.weir_write(statement text) RETURNS bigint
          LANGUAGE plpgsql SECURITY DEFINER AS $f$
          DECLARE n bigint;
          BEGIN
            EXECUTE statement;
            GET DIAGNOSTICS n = ROW_COUNT;
            RETURN n;
          END $f$;
        CREATE OR REPLACE FUNCTION platform.weir_read(query text) RETURNS json
          LANGUAGE plpgsql SECURITY DEFINER AS $f$
          DECLARE r json;
          BEGIN
            EXECUTE format(E'SELECT coalesce(json_agg(__weir_row), ''[]''::json) FROM (\\n%s\\n) __weir_row', query) INTO r;
            RETURN r;
          END $f$;
        REVOKE ALL ON FUNCTION platform.weir_write(text) FROM PUBLIC;
        REVOKE ALL ON FUNCTION platform.weir_read(text) FROM PUBLIC;
        -- the new owner needs CREATE on the schema for the change of owner, and only for it
        GRANT CREATE ON SCHEMA platform TO weir_writer, weir_reader;
        ALTER FUNCTION platform.weir_write(text) OWNER TO weir_writer;
        ALTER FUNCTION platform.weir_read(text) OWNER TO weir_reader;
        REVOKE CREATE ON SCHEMA platform FROM weir_writer, weir_reader;
        EXECUTE format('GRANT EXECUTE ON FUNCTION platform.weir_write(text), platform.weir_read(text) TO %I', current_user);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS platform.weir_write(text)`);
    await q.query(`DROP FUNCTION IF EXISTS platform.weir_read(text)`);
    await q.query(`
      DO $$
      BEGIN
        IF to_regrole('weir_writer') IS NOT NULL THEN
          ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM weir_writer;
          EXECUTE format('REVOKE CREATE ON DATABASE %I FROM weir_writer', current_database());
        END IF;
      END $$`);
  }
}
