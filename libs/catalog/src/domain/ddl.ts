import { qualifiedTable, quoteIdent } from '@weir/platform';
import { ColumnContract, DatasetContract, primaryKey, sqlType } from './contract';

/** `CREATE TABLE` for a contract: typed columns, NOT NULL, and the primary key (unless `withKey` is false). */
export function createTableSql(
  schema: string,
  table: string,
  contract: DatasetContract,
  opts: { withKey?: boolean; unlogged?: boolean; extraColumns?: string[] } = {},
): string {
  const cols = contract.columns.map(columnSql);
  for (const extra of opts.extraColumns ?? []) cols.push(extra);
  const pk = primaryKey(contract);
  if (opts.withKey !== false && pk.length > 0)
    cols.push(`PRIMARY KEY (${pk.map((c) => quoteIdent(c, 'column')).join(', ')})`);
  return `CREATE ${opts.unlogged ? 'UNLOGGED ' : ''}TABLE ${qualifiedTable(schema, table)} (\n  ${cols.join(',\n  ')}\n)`;
}

export function columnSql(c: ColumnContract): string {
  return `${quoteIdent(c.name, 'column')} ${sqlType(c)}${c.nullable ? '' : ' NOT NULL'}`;
}
