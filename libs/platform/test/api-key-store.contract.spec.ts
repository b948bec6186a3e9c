import { DataSource } from 'typeorm';
import { createTestDatabase, TestDatabase } from '../src/testing';
import { controlPlaneOptions } from '../src/database/data-source';
import { ApiKeyOrmEntity } from '../src/auth/api-key.orm-entity';
import { ApiKeyStore, InMemoryApiKeyStore, NewApiKey, TypeOrmApiKeyStore } from '../src/auth/api-key.store';
import { ApiKeysService, hashApiKey } from '../src/auth/api-keys.service';

const aKey = (over: Partial<NewApiKey> = {}): NewApiKey => ({
  name: 'loader',
  role: 'editor',
  keyHash: hashApiKey(`secret-${Math.random()}`),
  keyPrefix: 'weir_abcdefg',
  createdBy: null,
  ...over,
});

/** One contract, every adapter (the Dagster TestRunStorage pattern). */
function apiKeyStoreContract(name: string, make: () => Promise<{ store: ApiKeyStore; done: () => Promise<void> }>) {
  describe(`ApiKeyStore contract: ${name}`, () => {
    let store: ApiKeyStore;
    let done: () => Promise<void>;
    beforeEach(async () => ({ store, done } = await make()));
    afterEach(() => done());

    it('inserts and finds an active key by hash', async () => {
      const k = await store.insert(aKey({ name: 'a' }));
      expect(k.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(k.revokedAt).toBeNull();
      expect((await store.findActiveByHash(k.keyHash))?.id).toBe(k.id);
      expect(await store.findActiveByHash(hashApiKey('other'))).toBeUndefined();
    });

    it('lists newest first and counts active keys by role', async () => {
      const a = await store.insert(aKey({ name: 'first', role: 'admin' }));
      await new Promise((r) => setTimeout(r, 5));
      const b = await store.insert(aKey({ name: 'second', role: 'viewer' }));
      expect((await store.list()).map((k) => k.id)).toEqual([b.id, a.id]);
      expect(await store.countActive()).toBe(2);
      expect(await store.countActive('admin')).toBe(1);
    });

    it('revokes once; a revoked key is no longer found by hash', async () => {
      const k = await store.insert(aKey());
      const at = new Date('2026-01-02T03:04:05Z');
      const revoked = await store.revoke(k.id, at);
      expect(revoked?.revokedAt?.toISOString()).toBe(at.toISOString());
      const again = await store.revoke(k.id, new Date('2030-01-01T00:00:00Z'));
      expect(again?.revokedAt?.toISOString()).toBe(at.toISOString());
      expect(await store.findActiveByHash(k.keyHash)).toBeUndefined();
      expect(await store.countActive()).toBe(0);
    });

    it('answers undefined for unknown or malformed ids', async () => {
      expect(await store.findById('00000000-0000-0000-0000-000000000000')).toBeUndefined();
      expect(await store.revoke('not-a-uuid', new Date())).toBeUndefined();
    });

    it('records last use', async () => {
      const k = await store.insert(aKey());
      const at = new Date('2026-05-05T05:05:05Z');
      await store.touch(k.id, at);
      expect((await store.findById(k.id))?.lastUsedAt?.toISOString()).toBe(at.toISOString());
    });

    it('refuses two keys with the same hash', async () => {
      const k = await store.insert(aKey());
      await expect(store.insert(aKey({ keyHash: k.keyHash }))).rejects.toThrow();
    });

    it('backs ApiKeysService: created keys authenticate until revoked; the secret is never stored', async () => {
      const svc = new ApiKeysService(store, { adminApiKey: undefined });
      const created = await svc.create('etl', 'viewer');
      expect(created.key).toMatch(/^weir_[A-Za-z0-9_-]{43}$/);
      expect(JSON.stringify(await store.list())).not.toContain(created.key);
      expect(await svc.authenticate(created.key)).toEqual({ keyId: created.id, name: 'etl', role: 'viewer' });
      expect(await svc.authenticate(created.key + 'x')).toBeUndefined();
      await svc.revoke(created.id);
      expect(await svc.authenticate(created.key)).toBeUndefined();
      await expect(svc.revoke('00000000-0000-0000-0000-000000000000')).rejects.toMatchObject({
        code: 'PLATFORM.API_KEY_NOT_FOUND',
        kind: 'not_found',
      });
    });

    it('trusts a verified key for cacheMs: revocation here is immediate, elsewhere within cacheMs', async () => {
      const svc = new ApiKeysService(store, { adminApiKey: undefined });
      svc.cacheMs = 300;
      const a = await svc.create('a', 'editor');
      const b = await svc.create('b', 'editor');
      expect(await svc.authenticate(a.key)).toMatchObject({ name: 'a' });
      expect(await svc.authenticate(b.key)).toMatchObject({ name: 'b' });
      // revoked by another process (straight in the store): still trusted until the entry expires
      await store.revoke(a.id, new Date());
      expect(await svc.authenticate(a.key)).toMatchObject({ name: 'a' });
      await new Promise((r) => setTimeout(r, 350));
      expect(await svc.authenticate(a.key)).toBeUndefined();
      // revoked through this service: at once
      await svc.revoke(b.id);
      expect(await svc.authenticate(b.key)).toBeUndefined();
    });

    it('does not cache a lookup that a revocation overtook', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const slow: ApiKeyStore = Object.assign(Object.create(store) as ApiKeyStore, {
        findActiveByHash: async (h: string) => {
          const r = await store.findActiveByHash(h);
          await gate; // the record was read; the answer is late
          return r;
        },
      });
      const svc = new ApiKeysService(slow, { adminApiKey: undefined });
      const k = await svc.create('racer', 'editor');
      const pending = svc.authenticate(k.key);
      await svc.revoke(k.id);
      release();
      expect(await pending).toMatchObject({ name: 'racer' }); // in flight when revoked
      expect(await svc.authenticate(k.key)).toBeUndefined(); // and not remembered
    });

    it('rotates: a new secret for the same key, the old one found by hash until the service says its grace ended', async () => {
      const k = await store.insert(aKey({ name: 'rot', expiresAt: new Date('2099-01-01T00:00:00Z') }));
      expect(k.expiresAt?.toISOString()).toBe('2099-01-01T00:00:00.000Z');
      expect((await store.findActiveByName('rot')).map((r) => r.id)).toEqual([k.id]);
      const until = new Date(Date.now() + 60_000);
      const change = {
        keyHash: hashApiKey('new-secret'),
        keyPrefix: 'weir_newnewn',
        previousKeyHash: k.keyHash,
        previousValidUntil: until,
        expiresAt: k.expiresAt,
        rotatedAt: new Date(),
      };
      const rotated = await store.rotate(k.id, change);
      expect(rotated).toMatchObject({ id: k.id, name: 'rot', keyPrefix: 'weir_newnewn', previousKeyHash: k.keyHash });
      expect((await store.findActiveByHash(hashApiKey('new-secret')))?.id).toBe(k.id);
      expect((await store.findActiveByHash(k.keyHash))?.id).toBe(k.id);
      await store.revoke(k.id, new Date());
      expect(await store.findActiveByHash(k.keyHash)).toBeUndefined();
      expect(await store.findActiveByName('rot')).toEqual([]);
      expect(await store.rotate(k.id, change)).toBeUndefined();
    });

    it('backs ApiKeysService: expiry, rotation with and without grace, resolution by name', async () => {
      const svc = new ApiKeysService(store, { adminApiKey: undefined });
      svc.cacheMs = 0;
      const soon = await svc.create('soon', 'viewer', undefined, { expiresAt: new Date(Date.now() + 60_000) });
      expect(await svc.verify(soon.key)).toEqual({ principal: { keyId: soon.id, name: 'soon', role: 'viewer' } });
      const past = await store.insert(aKey({ name: 'past', expiresAt: new Date(Date.now() - 1000) }));
      const pastSecret = 'the-secret-of-past';
      await store.rotate(past.id, {
        keyHash: hashApiKey(pastSecret),
        keyPrefix: past.keyPrefix,
        previousKeyHash: null,
        previousValidUntil: null,
        expiresAt: past.expiresAt,
        rotatedAt: new Date(),
      });
      expect(await svc.verify(pastSecret)).toMatchObject({ failure: 'expired', keyId: past.id });
      expect(await svc.verify('weir_nothing')).toEqual({ failure: 'unknown' });
      const a = await svc.create('a', 'editor');
      const r1 = await svc.rotate('a', { graceMs: 60_000 });
      expect(r1.id).toBe(a.id);
      expect(await svc.authenticate(a.key)).toMatchObject({ name: 'a' });
      expect(await svc.authenticate(r1.key)).toMatchObject({ name: 'a' });
      const r2 = await svc.rotate(a.id);
      expect(await svc.authenticate(a.key)).toBeUndefined();
      expect(await svc.authenticate(r1.key)).toBeUndefined();
      expect(await svc.authenticate(r2.key)).toMatchObject({ keyId: a.id, role: 'editor' });
      expect(JSON.stringify(r2)).not.toContain('keyHash');
      await svc.create('a', 'viewer');
      await expect(svc.rotate('a')).rejects.toMatchObject({ code: 'PLATFORM.API_KEY_AMBIGUOUS' });
      await expect(svc.rotate('past')).rejects.toMatchObject({ code: 'PLATFORM.INVALID_EXPIRY' });
      const renewed = await svc.rotate('past', { expiresAt: new Date(Date.now() + 60_000) });
      expect(await svc.authenticate(renewed.key)).toMatchObject({ name: 'past' });
    });

    it('bootstraps one admin key only when none can be used', async () => {
      const svc = new ApiKeysService(store, { adminApiKey: undefined });
      const first = await svc.bootstrapAdminKey();
      expect(first?.role).toBe('admin');
      expect(await svc.bootstrapAdminKey()).toBeUndefined();
      const withEnvKey = new ApiKeysService(new InMemoryApiKeyStore(), { adminApiKey: 'env-admin-key-0123456789' });
      expect(await withEnvKey.bootstrapAdminKey()).toBeUndefined();
      expect(await withEnvKey.authenticate('env-admin-key-0123456789')).toMatchObject({ role: 'admin' });
    });
  });
}

apiKeyStoreContract('in-memory', async () => ({ store: new InMemoryApiKeyStore(), done: async () => undefined }));

describe('on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource({
      ...controlPlaneOptions(db.url, { entities: [ApiKeyOrmEntity] }),
      logging: false,
    }).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  apiKeyStoreContract('TypeORM (platform.api_keys)', async () => {
    await ds.query('TRUNCATE platform.api_keys');
    return { store: new TypeOrmApiKeyStore(ds.getRepository(ApiKeyOrmEntity)), done: async () => undefined };
  });

  it('stores only the SHA-256 of the secret', async () => {
    const svc = new ApiKeysService(new TypeOrmApiKeyStore(ds.getRepository(ApiKeyOrmEntity)), {
      adminApiKey: undefined,
    });
    const created = await svc.create('hash-check', 'editor');
    const [row] = await ds.query('SELECT key_hash, key_prefix FROM platform.api_keys WHERE id = $1', [created.id]);
    expect(row.key_hash).toBe(hashApiKey(created.key));
    expect(row.key_prefix).toBe(created.key.slice(0, 12));
  });

  it('rejects an unknown role at the database too', async () => {
    await expect(
      ds.query(
        `INSERT INTO platform.api_keys (name, role, key_hash, key_prefix) VALUES ('x', 'root', repeat('a', 64), 'weir_x')`,
      ),
    ).rejects.toThrow(/CHK_api_keys_role/);
  });
});
