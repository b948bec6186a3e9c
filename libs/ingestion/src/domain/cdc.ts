import type { CdcConnector } from './connector';

/**
 * Change data capture (`postgres_cdc`), the pure part: LSNs, the stream's states, and the
 * micro-batch that collapses a run of committed changes to one final change per key.
 */

export const CDC_STATES = ['snapshotting', 'streaming', 'paused', 'failed'] as const;
export type CdcState = (typeof CDC_STATES)[number];

/** A CDC connector with every default filled in. */
export type ResolvedCdcConnector = Required<Omit<CdcConnector, 'connection'>> & Pick<CdcConnector, 'connection'>;

export const CDC_DEFAULTS = {
  deletes: 'hard',
  truncate: 'refuse',
  batchChanges: 5000,
  batchMs: 200,
  maxSlotBytes: 1024 ** 3,
  lagAlertBytes: 256 * 1024 ** 2,
} as const;

/** Publication and slot names default to `weir_<source name>` (names are lower case, so are these). */
export function resolveCdc(c: CdcConnector, sourceName: string): ResolvedCdcConnector {
  const base = `weir_${sourceName.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
  return {
    ...CDC_DEFAULTS,
    ...c,
    publication: c.publication ?? base,
    slot: c.slot ?? base,
  } as ResolvedCdcConnector;
}

/** `schema.table` (default schema `public`). */
export function splitTable(t: string): { schema: string; table: string } {
  const i = t.indexOf('.');
  return i < 0 ? { schema: 'public', table: t } : { schema: t.slice(0, i), table: t.slice(i + 1) };
}

/** An LSN (`16/B374D848`, either half zero-padded or not) as a number that orders like it. */
export function lsnValue(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(parseInt(hi, 16)) << 32n) + BigInt(parseInt(lo, 16));
}

/** The canonical text form PostgreSQL prints (`16/B374D848`). */
export function lsnText(v: bigint): string {
  return `${(v >> 32n).toString(16).toUpperCase()}/${(v & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** A row image from the source: column → text value (null: SQL NULL; undefined: an unchanged TOAST value, not sent). */
export type CdcRow = Record<string, string | null | undefined>;

/** The final change of one key in a batch. */
export type CdcChange = { op: 'upsert'; row: CdcRow } | { op: 'delete'; row: CdcRow };

/**
 * The committed changes of a micro-batch, collapsed per primary key (last change wins: several
 * updates of a row become one upsert; an insert then a delete becomes a delete of a row the target
 * never had, which does nothing). A TRUNCATE empties the batch and is applied first.
 */
export class CdcBatch {
  private readonly byKey = new Map<string, CdcChange>();
  truncated = false;
  /** Changes read into the batch (TRUNCATE counts one). */
  read = 0;
  /** The last commit in the batch: its end LSN (stored as confirmed) and its time on the source. */
  lastLsn: string | undefined;
  lastCommitAt: Date | undefined;
  firstCommitAt: Date | undefined;

  constructor(private readonly pk: string[]) {}

  private key(row: CdcRow): string {
    return JSON.stringify(this.pk.map((k) => row[k] ?? null));
  }

  upsert(row: CdcRow): void {
    this.read++;
    const k = this.key(row);
    const prev = this.byKey.get(k);
    // an unchanged TOAST value is not sent: the batch's previous image of the row may know it
    if (prev?.op === 'upsert')
      for (const c of Object.keys(row)) if (row[c] === undefined && prev.row[c] !== undefined) row[c] = prev.row[c];
    this.byKey.delete(k);
    this.byKey.set(k, { op: 'upsert', row });
  }

  delete(keyRow: CdcRow): void {
    this.read++;
    const k = this.key(keyRow);
    this.byKey.delete(k);
    const row: CdcRow = {};
    for (const c of this.pk) row[c] = keyRow[c];
    this.byKey.set(k, { op: 'delete', row });
  }

  truncate(): void {
    this.read++;
    this.byKey.clear();
    this.truncated = true;
  }

  /** Notes a commit whose changes were added. */
  commit(endLsn: string, at: Date): void {
    this.lastLsn = endLsn;
    this.lastCommitAt = at;
    this.firstCommitAt ??= at;
  }

  get keys(): number {
    return this.byKey.size;
  }

  get empty(): boolean {
    return this.read === 0;
  }

  /** Changes read that need no statement of their own (collapsed into a later change of their key). */
  get deduplicated(): number {
    return this.read - this.byKey.size - (this.truncated ? 1 : 0);
  }

  /**
   * The upserts grouped by the columns they carry (a column added mid-stream, or an unchanged
   * TOAST value, changes the set), and the deletes (key columns only).
   */
  plan(): { upserts: { columns: string[]; rows: CdcRow[] }[]; deletes: CdcRow[] } {
    const groups = new Map<string, { columns: string[]; rows: CdcRow[] }>();
    const deletes: CdcRow[] = [];
    for (const ch of this.byKey.values()) {
      if (ch.op === 'delete') {
        deletes.push(ch.row);
        continue;
      }
      const columns = Object.keys(ch.row).filter((c) => ch.row[c] !== undefined);
      const sig = columns.join('\u0000');
      let g = groups.get(sig);
      if (!g) groups.set(sig, (g = { columns, rows: [] }));
      g.rows.push(ch.row);
    }
    return { upserts: [...groups.values()], deletes };
  }
}

/** A source column type (pgoutput type OID) as a contract type; anything unknown is text. */
export function contractTypeOf(typeOid: number): string {
  switch (typeOid) {
    case 16:
      return 'boolean';
    case 20:
      return 'bigint';
    case 21:
    case 23:
      return 'integer';
    case 1700:
      return 'numeric';
    case 1082:
      return 'date';
    case 1114:
      return 'timestamp';
    case 1184:
      return 'timestamptz';
    case 2950:
      return 'uuid';
    case 114:
    case 3802:
      return 'jsonb';
    default:
      return 'text';
  }
}

/**
 * The source's columns against the contract, by drift policy: the columns to add (`evolve`), to
 * ignore (`discard_columns`), or the problem that fails the stream (`freeze`).
 */
export function cdcDrift(
  source: { name: string; typeOid: number }[],
  contract: string[],
  drift: string,
): { add: { name: string; type: string }[]; ignore: string[]; problem?: string } {
  const known = new Set(contract);
  const fresh = source.filter((c) => !known.has(c.name));
  if (fresh.length === 0) return { add: [], ignore: [] };
  const names = fresh.map((c) => c.name);
  if (drift === 'freeze')
    return {
      add: [],
      ignore: names,
      problem: `the source table has columns the contract lacks (${names.join(', ')}) and the drift policy is freeze: add them to the dataset contract (or set drift evolve or discard_columns), then resume the source`,
    };
  if (drift === 'discard_columns') return { add: [], ignore: names };
  return { add: fresh.map((c) => ({ name: c.name, type: contractTypeOf(c.typeOid) })), ignore: [] };
}
