import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { DomainError } from '@weir/platform';
import { LineageService, upstreamSchemas } from '@weir/lineage';
import { BadSchemasError, FileNotReadableError } from '@weir/lineage';
import { compileModelSql, projectRootOf } from '@weir/modeling';

/**
 * `weir lineage <file.sql>`: what POST /api/lineage/parse returns, as JSON (no database needed).
 * A dbt model (by name, or its file) is compiled first; its output columns are its relation's, and
 * the columns of the relations it reads are worked out from the project (seed headers, upstream
 * models' SQL) so that its `*` expands and its unqualified columns resolve.
 */
export function lineageCommands(program: Command): void {
  program
    .command('lineage <file>')
    .description(
      'table and column lineage of a SQL file (or - for stdin), or of a dbt model by name or file (its Jinja compiled first), printed as POST /api/lineage/parse returns it',
    )
    .option('--project-dir <dir>', 'the dbt project of a model named by name (default: the current folder)')
    .option(
      '--schemas <file>',
      'JSON file mapping "schema.table" to its column names (expands *, resolves ambiguous columns)',
    )
    .option('--default-schema <name>', 'schema of unqualified table names in the result')
    .option(
      '--target <table>',
      "the relation a plain SELECT produces (a model's by default); without it, a query's output columns have table null",
    )
    .option('--compact', 'one line of JSON')
    .action(
      async (
        file: string,
        opts: { schemas?: string; defaultSchema?: string; compact?: boolean; projectDir?: string; target?: string },
      ) => {
        const read = (f: string, what: string) => {
          try {
            return fs.readFileSync(f === '-' ? 0 : f, 'utf8');
          } catch (e) {
            throw new FileNotReadableError(`Cannot read the ${what} ${f}: ${(e as Error).message}`);
          }
        };
        let schemas: Record<string, string[]> | undefined;
        if (opts.schemas) {
          try {
            schemas = JSON.parse(read(opts.schemas, 'schemas file'));
          } catch (e) {
            if (e instanceof DomainError) throw e;
            throw new BadSchemasError(`${opts.schemas} is not valid JSON: ${(e as Error).message}`);
          }
        }
        // a model: a file of a dbt project, or a model's name in --project-dir (or here)
        let sql: string;
        let model: ReturnType<typeof compileModelSql> | undefined;
        const isFile = file === '-' || fs.existsSync(file);
        if (isFile) {
          sql = read(file, 'SQL file');
          const root = file === '-' ? undefined : projectRootOf(file);
          if (root) {
            try {
              model = compileModelSql(root, path.resolve(file));
              sql = model.sql;
            } catch (e) {
              // SQL without Jinja that is not a model of the project (an analysis, a script): plain SQL
              if (/{{|{%/.test(sql)) throw e;
            }
          }
        } else {
          const root = path.resolve(opts.projectDir ?? '.');
          if (!fs.existsSync(path.join(root, 'dbt_project.yml')))
            throw new FileNotReadableError(
              `${file} is not a file, and ${root} is not a dbt project (no dbt_project.yml) to find a model in`,
            );
          model = compileModelSql(root, file);
          sql = model.sql;
        }
        if (model) {
          schemas = await upstreamSchemas(model.upstream, schemas);
        }
        const result = await new LineageService().parse({
          sql,
          schemas,
          defaultSchema: opts.defaultSchema,
          target: opts.target ?? model?.relation,
        });
        process.stdout.write(`${JSON.stringify(result, null, opts.compact ? undefined : 2)}\n`);
      },
    );
}
