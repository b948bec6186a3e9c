import { DatasetContract, parseType } from '@weir/catalog';
import type { QueryConnector } from '../../domain/connector';
import { parseQueryWatermark } from '../../domain/connector';
import type { SourceOptions, StrategySpec } from '../../domain/source';

/** How a query source's SELECT filters and orders (dialect-free; each adapter renders it). */
export interface QueryPlan {
  /** Source field names to select (a table source), or undefined for a query's own columns. */
  columns?: string[];
  /** Incremental: the cursor's and the tie-breaker's source field names. */
  cursor?: string;
  tieBreaker?: string;
  /** Incremental past a checkpoint: rows with cursor > `bound` (the watermark less the lookback)… */
  bound?: string;
  /** …or cursor = `tieCursor` and tie-breaker > `tieValue` (rows sharing the last cursor value). */
  tieCursor?: string;
  tieValue?: string;
  /** The cursor's kind, for how a bound is compared. */
  cursorKind?: 'temporal' | 'number' | 'text';
}

/** The contract column name → the field it is read from (a mapping's `from`, else its name). */
const fieldOf = (options: SourceOptions, column: string) => options.mapping?.[column]?.from ?? column;

/**
 * The plan of one read: the columns (a table's `columns`, else the contract's fields) and, for an
 * incremental source with a watermark, the filter past it. `bound` is computed by the caller (the
 * watermark less the lookback, in the cursor's type).
 */
export function queryPlan(
  connector: QueryConnector,
  contract: DatasetContract,
  options: SourceOptions,
  strategy: StrategySpec,
): QueryPlan {
  const plan: QueryPlan = {};
  if (connector.table) plan.columns = connector.columns ?? contract.columns.map((c) => fieldOf(options, c.name));
  if (connector.mode === 'incremental' && strategy.cursor) {
    plan.cursor = fieldOf(options, strategy.cursor);
    if (connector.tieBreaker) plan.tieBreaker = fieldOf(options, connector.tieBreaker);
    const col = contract.columns.find((c) => c.name === strategy.cursor);
    const t = col ? parseType(col.type) : 'text';
    const base = typeof t === 'string' ? 'text' : t.base;
    plan.cursorKind = ['timestamp', 'timestamptz', 'date'].includes(base)
      ? 'temporal'
      : ['integer', 'bigint', 'numeric'].includes(base)
        ? 'number'
        : 'text';
  }
  return plan;
}

/** The checkpoint's parts a plan needs, with `bound` (the watermark less the lookback) given. */
export function withCheckpoint(plan: QueryPlan, watermark: string | null, bound: string | null): QueryPlan {
  const cp = parseQueryWatermark(watermark);
  if (!plan.cursor || !cp || bound === null) return plan;
  const out: QueryPlan = { ...plan, bound };
  if (plan.tieBreaker && cp.tieBreaker !== undefined) {
    out.tieCursor = cp.cursor;
    out.tieValue = cp.tieBreaker;
  }
  return out;
}

/** `2 hours`, `30 minutes`, `1.5 days`, a bare number (seconds) → seconds. */
export function lookbackSeconds(lookback: string | undefined): number {
  if (!lookback) return 0;
  const m = /^\s*(\d+(?:\.\d+)?)(?:\s+(second|minute|hour|day|week|month|year)s?)?\s*$/i.exec(lookback);
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'second').toLowerCase();
  const secs: Record<string, number> = {
    second: 1,
    minute: 60,
    hour: 3600,
    day: 86400,
    week: 604800,
    month: 2592000,
    year: 31536000,
  };
  return n * secs[unit];
}

/** `schema.table` → its parts. */
export const tableParts = (t: string): string[] => t.split('.');
