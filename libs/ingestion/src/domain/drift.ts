import type { ColumnContract, ColumnMapping } from '@weir/catalog';
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
