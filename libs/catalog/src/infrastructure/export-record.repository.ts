import { DataSource, In, Not } from 'typeorm';
import type { ExportedPartition, ExportRecords } from '../application/ports/lake-export.port';
import { ExportRecordOrmEntity } from './export-record.orm-entity';

/** EXPORT_RECORDS on catalog.exports. */
export class TypeOrmExportRecords implements ExportRecords {
  constructor(private readonly ds: DataSource) {}

  async list(datasetId: string, target: string): Promise<ExportedPartition[]> {
    const rows = await this.ds
      .getRepository(ExportRecordOrmEntity)
      .find({ where: { datasetId, target }, order: { partition: 'ASC' } });
    return rows.map((e) => ({
      partition: e.partition,
      values: e.partitionValues,
      rows: Number(e.rows),
      files: e.files,
      datasetVersion: e.datasetVersion,
      exportedAt: e.exportedAt,
    }));
  }

  async save(datasetId: string, target: string, parts: ExportedPartition[], replaceAll: boolean): Promise<void> {
    await this.ds.transaction(async (em) => {
      const repo = em.getRepository(ExportRecordOrmEntity);
      if (replaceAll)
        await repo.delete({
          datasetId,
          target,
          ...(parts.length ? { partition: Not(In(parts.map((p) => p.partition))) } : {}),
        });
      for (const p of parts)
        await repo.upsert(
          {
            datasetId,
            target,
            partition: p.partition,
            partitionValues: p.values,
            rows: String(p.rows),
            files: p.files,
            datasetVersion: p.datasetVersion,
            exportedAt: p.exportedAt,
          },
          ['datasetId', 'target', 'partition'],
        );
    });
  }
}
