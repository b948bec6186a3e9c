import type { Expectation } from '@weir/quality';
import type { ModelProperties } from './project';

/**
 * dbt's generic YAML tests as quality expectations: `unique`, `not_null`, `accepted_values`,
 * `relationships` (its `to: ref('x')` resolved to a relation by `resolveRef`). Unknown tests are
 * returned as problems, never dropped silently.
 */
export function yamlTests(
  props: ModelProperties,
  resolveRef: (name: string) => string | undefined,
): { expectations: Expectation[]; problems: string[] } {
  const expectations: Expectation[] = [];
  const problems: string[] = [];
  for (const col of props.columns ?? []) {
    for (const t of col.tests ?? []) {
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
        default:
          problems.push(
            `${props.file}: ${props.name}.${col.name}: test ${JSON.stringify(name)} is not supported (unique, not_null, accepted_values, relationships)`,
          );
      }
    }
  }
  return { expectations, problems };
}
