import { startTestApp, TestApp } from './support/test-app';

interface Operation {
  summary?: string;
  tags?: string[];
  responses?: Record<string, { content?: Record<string, { schema?: unknown }>; schema?: unknown }>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

describe('OpenAPI document (GET /docs-json)', () => {
  let t: TestApp;
  let doc: {
    paths: Record<string, Record<string, Operation>>;
    tags?: { name: string; description?: string }[];
    components: { securitySchemes: Record<string, Record<string, unknown>> };
  };
  const operations: { id: string; op: Operation }[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    doc = (await t.http.get('/docs-json').expect(200)).body;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const m of METHODS) if (item[m]) operations.push({ id: `${m.toUpperCase()} ${path}`, op: item[m] });
    }
  });
  afterAll(() => t.close());

  it('covers the /api routes, the /api/v1 ones included', () => {
    expect(operations.length).toBeGreaterThan(50);
    expect(operations.some((o) => o.id.includes(' /api/v1/'))).toBe(true);
  });

  it('gives every operation a non-empty summary', () => {
    const without = operations.filter((o) => !o.op.summary?.trim()).map((o) => o.id);
    expect(without).toEqual([]);
  });

  // a 204 declares that there is no body: that is its schema
  it('gives every operation a 2xx response with a schema (or a 204)', () => {
    const without = operations
      .filter(
        (o) =>
          !Object.entries(o.op.responses ?? {}).some(
            ([status, r]) =>
              status === '204' ||
              (/^2\d\d$/.test(status) &&
                (r.schema !== undefined || Object.values(r.content ?? {}).some((c) => c.schema !== undefined))),
          ),
      )
      .map((o) => o.id);
    expect(without).toEqual([]);
  });

  it('describes every tag an operation uses', () => {
    const described = new Map((doc.tags ?? []).map((tag) => [tag.name, tag.description?.trim() ?? '']));
    const used = [...new Set(operations.flatMap((o) => o.op.tags ?? []))];
    expect(used.length).toBeGreaterThan(3);
    expect(used.filter((tag) => !described.get(tag))).toEqual([]);
    // and every operation is under a tag
    expect(operations.filter((o) => !o.op.tags?.length).map((o) => o.id)).toEqual([]);
  });

  it('declares the bearer scheme as a plain API key, not a JWT', () => {
    const bearer = doc.components.securitySchemes.bearer;
    expect(bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(bearer.bearerFormat).toBeUndefined();
    expect(JSON.stringify(doc.components.securitySchemes)).not.toMatch(/JWT/i);
    expect(String(bearer.description)).toMatch(/API key/);
  });
});
