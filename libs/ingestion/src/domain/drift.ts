import type { ColumnContract, ColumnMapping, CompiledContract, DatasetContract, Violation } from '@weir/catalog';
import { foldName } from './infer';

/** evolve adds columns up to this many in a contract (PostgreSQL's limit is 1600, and the stage needs one more). */
export const EVOLVE_MAX_COLUMNS = 1500;
/** …and at most this many in one run; further new fields are dead-lettered as SCHEMA_DRIFT. */
export const EVOLVE_MAX_PER_RUN = 200;

/**
 * drift policy evolve: the nullable text column each new source field adds (named by the one
 * column-name rule, `foldName`), with the mapping from a renamed field. A field whose name is
 * taken, or past the limits, is marked unaddable (its rows are dead-lettered as SCHEMA_DRIFT).
 */
export function driftColumns(
  fields: string[],
  s: {
    known: Set<string>;
    unaddable: Set<string>;
    columns: string[];
    addedThisRun: number;
    mapping: Record<string, ColumnMapping>;
  },
): { cols: ColumnContract[]; mapping: Record<string, ColumnMapping> } {
  const fresh = fields.filter((f) => !s.known.has(f) && !s.unaddable.has(f));
  const mapping = { ...s.mapping };
  const cols: ColumnContract[] = [];
  for (const f of fresh) {
    const name = foldName(f);
    const full =
      s.columns.length + cols.length >= EVOLVE_MAX_COLUMNS || s.addedThisRun + cols.length >= EVOLVE_MAX_PER_RUN;
    if (full || s.columns.includes(name) || cols.some((c) => c.name === name)) {
      s.unaddable.add(f);
      continue;
    }
    const description = `added by schema drift (evolve) from source field ${JSON.stringify(f)}`;
    cols.push({ name, type: 'text', nullable: true, description });
    if (name !== f) mapping[name] = { ...(mapping[name] ?? {}), from: f };
  }
  return { cols, mapping };
}

/**
 * A CSV header against the contract: where each contract column is in a row (-1: absent), the
 * header's unknown columns, and under drift policy freeze the violation every row then gets
 * (unknown columns, or required ones missing without a default).
 */
export function headerPlan(
  given: string[],
  compiled: CompiledContract,
  contract: DatasetContract,
  drift: string,
  mapping: Record<string, ColumnMapping>,
): { header: string[]; index: Int32Array; unknown: string[]; violation?: Violation } {
  const header = given.length > 0 ? given : compiled.sourceFields;
  const pos = new Map(header.map((h, i) => [h, i]));
  const index = Int32Array.from(compiled.sourceFields.map((f) => pos.get(f) ?? -1));
  const known = new Set(compiled.sourceFields);
  const unknown = header.filter((h) => !known.has(h));
  const required = contract.columns
    .map((c, i) => ({ c, i }))
    .filter(({ c, i }) => !c.nullable && index[i] === -1 && mapping[c.name]?.default == null)
    .map(({ i }) => compiled.sourceFields[i]);
  if (drift !== 'freeze' || (unknown.length === 0 && required.length === 0)) return { header, index, unknown };
  const what = [
    unknown.length ? `unknown columns ${unknown.join(', ')}` : '',
    required.length ? `missing required columns ${required.join(', ')}` : '',
  ];
  const message = what.filter(Boolean).join('; ') + ' (drift policy freeze)';
  return { header, index, unknown, violation: { reason: 'SCHEMA_DRIFT', message } };
}
