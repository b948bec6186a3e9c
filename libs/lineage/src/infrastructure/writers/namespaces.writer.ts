import type { Queryable } from '@weir/platform';
import type { GraphDelta } from '../../domain/graph-delta';
import { insertNamespacesSql } from './namespaces.sql';

/** lineage.namespaces: every namespace the batch names (one statement, even for none). */
export async function writeNamespaces(tx: Queryable, delta: Pick<GraphDelta, 'namespaces'>): Promise<void> {
  const { sql, params } = insertNamespacesSql(delta.namespaces);
  await tx.query(sql, params);
}
