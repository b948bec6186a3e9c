import * as fs from 'node:fs';
import { Command } from 'commander';
import { DomainError } from '@weir/platform';
import { LineageService } from '@weir/lineage';
import { BadSchemasError, FileNotReadableError } from '@weir/lineage';

/** `weir lineage <file.sql>`: what POST /api/lineage/parse returns, as JSON (no database needed). */
export function lineageCommands(program: Command): void {
  program
    .command('lineage <file>')
    .description(
      'table and column lineage of a SQL file (or - for stdin), printed as POST /api/lineage/parse returns it',
    )
    .option(
      '--schemas <file>',
      'JSON file mapping "schema.table" to its column names (expands *, resolves ambiguous columns)',
    )
    .option('--default-schema <name>', 'schema of unqualified table names in the result')
    .option('--compact', 'one line of JSON')
    .action(async (file: string, opts: { schemas?: string; defaultSchema?: string; compact?: boolean }) => {
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
      const result = await new LineageService().parse({
        sql: read(file, 'SQL file'),
        schemas,
        defaultSchema: opts.defaultSchema,
      });
      process.stdout.write(`${JSON.stringify(result, null, opts.compact ? undefined : 2)}\n`);
    });
}
