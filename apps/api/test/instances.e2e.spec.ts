import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createTestDatabase, TestDatabase } from '@weir/platform/testing';
import { RunsService } from '@weir/ingestion';
import { admin, appOn } from './support/test-app';
import { tempDataDir, until } from './support/files';

const contract = {
  columns: [
    { name: 'id', type: 'bigint', nullable: false },
    { name: 'tag', type: 'text', nullable: true },
  ],
};

/** Several instances on one database, each with its own disk (as on two hosts), and restarts after a kill. */
describe('instances e2e: separate disks, concurrent first loads, dead instances', () => {
  let db: TestDatabase;
  let pg: Client;
  const dirs: ReturnType<typeof tempDataDir>[] = [];
  const apps: INestApplication[] = [];
  const dir = () => {
    const d = tempDataDir();
    dirs.push(d);
    return d;
  };
  const start = async (d: ReturnType<typeof tempDataDir>, roles?: string) => {
    const a = await appOn(db, d.dir, roles);
    apps.push(a);
    return a;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });
  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await pg?.end();
    await db?.drop();
    for (const d of dirs) d.remove();
  });

  it('uploads to two instances with separate data directories all succeed (each run stays with the instance holding its file); two first loads into one new table both land', async () => {
    const [a, b] = [await start(dir()), await start(dir())];
    const [ha, hb] = [request(a.getHttpServer()), request(b.getHttpServer())];
    await ha.post('/api/catalog/datasets').set(admin).send({ name: 'events', contract }).expect(201);
    await ha
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ name: 'ev_a', dataset: 'events', format: 'csv', strategy: { kind: 'append' } })
      .expect(201);
    await ha
      .post('/api/ingestion/sources')
      .set(admin)
      .send({ name: 'ev_b', dataset: 'events', format: 'csv', strategy: { kind: 'append' } })
      .expect(201);
    // the first two loads into the new table, at once, through two instances
    const ids: string[] = [];
    const uploads = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? hb : ha)
          .post(`/api/ingestion/sources/${i % 2 ? 'ev_b' : 'ev_a'}/uploads`)
          .set(admin)
          .set('Content-Type', 'text/csv')
          .send(`id,tag\n${i},${i % 2 ? 'b' : 'a'}\n`),
      ),
    );
    for (const u of uploads) {
      expect(u.status).toBe(202);
      ids.push(u.body.id);
    }
    const done = await until('20 runs to end', async () => {
      const r = (
        await pg.query(
          `SELECT status, error_code FROM ingestion.runs WHERE id = ANY($1::uuid[]) AND status IN ('succeeded', 'failed')`,
          [ids],
        )
      ).rows;
      return r.length === 20 ? r : undefined;
    });
    expect(done.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect((await pg.query(`SELECT count(*)::int AS n FROM raw.events`)).rows[0].n).toBe(20);
  });

  it('an upload held by an instance that is gone is failed clearly (INGESTION.UPLOAD_LOST), not left queued or run elsewhere', async () => {
    const survivor = await start(dir());
    const api = await start(dir(), 'api'); // takes uploads, runs nothing
    const r = await request(api.getHttpServer())
      .post('/api/ingestion/sources/ev_a/uploads')
      .set(admin)
      .set('Content-Type', 'text/csv')
      .send('id,tag\n100,lost\n')
      .expect(202);
    await api.close();
    apps.splice(apps.indexOf(api), 1);
    await pg.query(`UPDATE ingestion.runs SET created_at = now() - interval '1 minute' WHERE id = $1`, [r.body.id]);
    await survivor.get(RunsService).recover();
    const run = (
      await pg.query(`SELECT status, error_code, error_message FROM ingestion.runs WHERE id = $1`, [r.body.id])
    ).rows[0];
    expect(run).toMatchObject({
      status: 'failed',
      error_code: 'INGESTION.UPLOAD_LOST',
      error_message: expect.stringMatching(/upload it again/),
    });
  });

  it('a restarted instance fails the runs it left running at once, removes their files, and the same input runs again', async () => {
    const d = dir();
    // what a SIGKILLed instance leaves: its instance file (a dead pid), a running run with a fresh heartbeat, its upload file
    const deadId = 'deadbeef';
    fs.mkdirSync(path.join(d.dir, 'instances'), { recursive: true });
    fs.writeFileSync(path.join(d.dir, 'instances', deadId), '999999999');
    const upload = path.join(d.dir, 'uploads', randomUUID());
    fs.mkdirSync(path.dirname(upload), { recursive: true });
    const body = 'id,tag\n200,again\n';
    fs.writeFileSync(upload, body);
    const stray = path.join(d.dir, 'uploads', randomUUID());
    fs.writeFileSync(stray, 'id,tag\n');
    fs.utimesSync(stray, new Date(Date.now() - 7200_000), new Date(Date.now() - 7200_000));
    const key = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const src = (await pg.query(`SELECT id FROM ingestion.sources WHERE name = 'ev_a'`)).rows[0].id;
    const dead = (
      await pg.query(
        `INSERT INTO ingestion.runs (source_id, status, trigger, idempotency_key, input, started_at, heartbeat_at, claimed_by)
         VALUES ($1, 'running', 'upload', $2, $3, now(), now(), $4) RETURNING id`,
        [
          src,
          key,
          JSON.stringify({ uploadId: upload, checksum: key.slice(7), bytes: body.length, heldBy: deadId }),
          deadId,
        ],
      )
    ).rows[0].id;
    const app = await start(d); // the restart: recovery at start, no waiting for the heartbeat to go stale
    const run = (await pg.query(`SELECT status, error_code FROM ingestion.runs WHERE id = $1`, [dead])).rows[0];
    expect(run).toEqual({ status: 'failed', error_code: 'INGESTION.INTERRUPTED' });
    expect(fs.existsSync(upload)).toBe(false);
    expect(fs.existsSync(stray)).toBe(false);
    // the same file again: a new run (never the dead one), which succeeds
    const again = await request(app.getHttpServer())
      .post('/api/ingestion/sources/ev_a/uploads')
      .set(admin)
      .set('Content-Type', 'text/csv')
      .send(body);
    expect(again.status).toBe(202);
    expect(again.body.id).not.toBe(dead);
    expect((await app.get(RunsService).waitFor(again.body.id, 30_000)).status).toBe('succeeded');
  });
});
