import { Injectable } from '@nestjs/common';

import { SqlLineage, sqlLineage, SqlParseError } from '../domain/sql-lineage';
import { SqlParseErrorError } from '../lineage.errors';

export interface ParseRequest {
  sql: string;
  schemas?: Record<string, string[]>;
  defaultSchema?: string;
  /** The relation a plain SELECT produces (a model's): its output columns are this table's. */
  target?: string;
}

/** SQL lineage for the API, the CLI and the conformance suite: one code path. */
@Injectable()
export class LineageService {
  async parse(req: ParseRequest): Promise<SqlLineage> {
    try {
      return await sqlLineage(req.sql, { schemas: req.schemas, defaultSchema: req.defaultSchema, target: req.target });
    } catch (e) {
      if (e instanceof SqlParseError) {
        throw new SqlParseErrorError(
          `The SQL does not parse (PostgreSQL grammar): ${e.message}${e.position ? ` at character ${e.position}` : ''}`,
        );
      }
      throw e;
    }
  }
}
