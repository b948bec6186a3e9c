import type { LineageNode } from '../../domain/graph-render';
import type { ImpactReport } from '../lineage-query.service';

/** Nest token of {@link LineageQueriesPort}. */
export const LINEAGE_QUERIES = Symbol('LINEAGE_QUERIES');

/** Reads of the lineage graph other slices make (orchestration's data-aware triggers, impact checks). */
export interface LineageQueriesPort {
  /**
   * The graph around a node (`dataset:<namespace>:<name>`, `job:<namespace>:<name>`), `depth` hops
   * up, down or both. Throws `LINEAGE.NODE_NOT_FOUND`.
   */
  lineage(
    nodeId: string,
    depth?: number,
    direction?: 'upstream' | 'downstream' | 'both',
  ): Promise<{ graph: LineageNode[] }>;
  /** What depends on a dataset (or one of its columns): datasets, columns, jobs, models, expectations. */
  impact(dataset: string, column?: string, depth?: number, limit?: number): Promise<ImpactReport>;
}
