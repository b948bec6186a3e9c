import { Command } from 'commander';
import { Retention } from '@weir/platform';
import { LineageModule } from '@weir/lineage';
import { withContext } from '../context';
import { emit, say } from '../output';

/** `weir retention`: applies the retention policies now (workers also do it every hour). */
export function retentionCommands(program: Command): void {
  program
    .command('retention')
    .description(
      'delete what is kept only for a while (WEIR_OUTBOX_RETENTION_DAYS, WEIR_LINEAGE_EVENTS_RETENTION_DAYS, WEIR_AUDIT_RETENTION_DAYS) now; workers do it hourly',
    )
    .option('--json', 'print the rows deleted per policy as JSON')
    .action(async (opts: { json?: boolean }) => {
      const deleted = await withContext({ modules: [LineageModule] }, async (ctx) => {
        const r = ctx.get(Retention);
        const policies = r.list();
        if (!policies.length) say('no retention policy is set (every retention setting is 0)');
        for (const p of policies) say(`${p.name}: deletes ${p.describe}`);
        return r.sweep();
      });
      emit(opts.json, deleted, () =>
        Object.entries(deleted)
          .map(([name, n]) => `${name}: ${n} rows deleted\n`)
          .join(''),
      );
    });
}
