import type { Expectation } from '@weir/quality';
import type { ModelProperties } from './project';
import type { DbtTestSql } from './compile';

/**
 * dbt's generic YAML tests as quality expectations: `unique`, `not_null`, `accepted_values`,
 * `relationships` (its `to: ref('x')` resolved to a relation by `resolveRef`). Any other generic
 * test — the project's own, a package's, one at model level — runs as a `custom_sql` expectation
 * when the dbt runtime compiled it (`compiledTests`); else it is returned as a problem, never
 * dropped silently. `tests:` and `data_tests:` are read alike.
 */
export function yamlTests(
  props: ModelProperties,
  resolveRef: (name: string) => string | undefined,
  compiledTests: DbtTestSql[] = [],
): { expectations: Expectation[]; problems: string[] } {
  const expectations: Expectation[] = [];
  const problems: string[] = [];
  const used = new Set<DbtTestSql>();
  const compiled = (column: string | null, name: string) => {
    const short = name.includes('.') ? name.split('.').pop()! : name;
    const hit = compiledTests.find((c) => !used.has(c) && c.column === column && c.test === short);
    if (hit) used.add(hit);
    return hit;
  };
  const asCustom = (c: DbtTestSql, column: string | null) =>
    expectations.push({
      type: 'custom_sql',
      kwargs: { sql: c.sql },
      severity: c.severity,
      meta: { dbt_test: c.test, model: props.name, ...(column ? { column } : {}) },
    });
  const own = props as ModelProperties & { tests?: unknown[]; data_tests?: unknown[] };
  for (const t of [...(own.tests ?? []), ...(own.data_tests ?? [])]) {
    const name = typeof t === 'string' ? t : (Object.keys((t ?? {}) as object)[0] ?? '');
    const c = compiled(null, String((t as Record<string, unknown>)?.['test_name'] ?? name));
    if (c) asCustom(c, null);
    else problems.push(`${props.file}: ${props.name}: test ${JSON.stringify(name)} could not be compiled`);
  }
  for (const col of props.columns ?? []) {
    for (const t of [...(col.tests ?? []), ...(col.data_tests ?? [])]) {
      const [name, args] =
        typeof t === 'string' ? [t, {}] : (Object.entries(t as Record<string, Record<string, unknown>>)[0] ?? ['', {}]);
      const a = (args ?? {}) as Record<string, unknown>;
      const severity =
        String(
          (a['config'] as Record<string, unknown> | undefined)?.['severity'] ?? a['severity'] ?? 'error',
        ).toLowerCase() === 'warn'
          ? 'warn'
          : 'error';
      const meta = { dbt_test: name, model: props.name };
      switch (name) {
        case 'unique':
          expectations.push({
            type: 'expect_column_values_to_be_unique',
            kwargs: { column: col.name },
            severity,
            meta,
          });
          break;
        case 'not_null':
          expectations.push({
            type: 'expect_column_values_to_not_be_null',
            kwargs: { column: col.name },
            severity,
            meta,
          });
          break;
        case 'accepted_values':
          if (!Array.isArray(a['values']))
            problems.push(`${props.file}: ${props.name}.${col.name}: accepted_values needs values`);
          else
            expectations.push({
              type: 'expect_column_values_to_be_in_set',
              kwargs: { column: col.name, value_set: a['values'] },
              severity,
              meta,
            });
          break;
        case 'relationships': {
          const m = /^\s*ref\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)\s*$/.exec(String(a['to'] ?? ''));
          const to = m ? resolveRef(m[1]) : undefined;
          if (!to || typeof a['field'] !== 'string')
            problems.push(`${props.file}: ${props.name}.${col.name}: relationships needs to: ref('<model>') and field`);
          else
            expectations.push({
              type: 'relationships',
              kwargs: { column: col.name, to, field: a['field'] },
              severity,
              meta,
            });
          break;
        }
        default: {
          const c = compiled(col.name, name);
          if (c) {
            asCustom(c, col.name);
            break;
          }
          problems.push(
            `${props.file}: ${props.name}.${col.name}: test ${JSON.stringify(name)} is not supported (unique, not_null, accepted_values, relationships, and generic tests the dbt runtime compiles)`,
          );
        }
      }
    }
  }
  return { expectations, problems };
}
