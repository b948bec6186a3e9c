/**
 * GX conformance: every test in ../shared/corpora/gx/*.json that applies to a PostgreSQL backend,
 * run through Weir's suite compiler and runner on real PostgreSQL, compared as GX's harness
 * compares (see corpora/gx/README.txt). Needs TEST_DATABASE_URL or DATABASE_URL (else it skips).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Client } from 'pg';
import { createTestDatabase, type ConformanceSuite } from '@weir/platform/testing';
import { prepareReader, readAsReader } from '@weir/platform';
import { canonicalType, Expectation, MAP_EXPECTATIONS } from '../src/domain/expectations';
import { runSuite } from '../src/infrastructure/suite.runner';

const BACKEND = 'postgresql';
const asList = (v: unknown): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? (v as string[]) : [String(v)];

/** Column types: the fixture's postgresql schema, else what pandas would infer and write. */
function columnType(values: unknown[], declared?: string): string {
  if (declared) return declared === 'DOUBLE_PRECISION' ? 'double precision' : declared.toLowerCase();
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) return 'text';
  if (present.every((v) => typeof v === 'boolean')) return 'boolean';
  if (present.every((v) => typeof v === 'number')) {
    return present.every((v) => Number.isInteger(v)) && present.length === values.length
      ? 'bigint'
      : 'double precision';
  }
  return 'text';
}

function loose(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  if (typeof a === 'number' && typeof b === 'string') return String(a) === b || Number(b) === a;
  if (typeof b === 'number' && typeof a === 'string') return loose(b, a);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => loose(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a as object).sort();
    const kb = Object.keys(b as object).sort();
    return (
      isDeepStrictEqual(ka, kb) &&
      ka.every((k) => loose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  if (
    typeof a === 'string' &&
    typeof b === 'string' &&
    /^\d{4}-\d\d-\d\d[T ]/.test(a) &&
    /^\d{4}-\d\d-\d\d[T ]/.test(b)
  )
    return a.replace(' ', 'T') === b.replace(' ', 'T');
  return isDeepStrictEqual(a, b);
}

const sortKey = (x: unknown) => (x && typeof x === 'object' ? JSON.stringify(Object.values(x as object)) : String(x));
const sorted = (xs: unknown[]) =>
  [...xs].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));

function approx(actual: unknown, expected: unknown, tolerance?: number): boolean {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const rtol = tolerance ?? 1e-7;
    const atol = tolerance !== undefined ? 0 : 5e-2;
    return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
  }
  return loose(actual, expected);
}

export const gxSuite: ConformanceSuite = {
  name: 'gx-expectations',
  corpus: 'gx',
  async run(dir, report) {
    const server = process.env['TEST_DATABASE_URL'];
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json') && f !== 'expect_this_test_to_be_suppressed.json')
      .sort();
    if (!server) {
      for (const f of files) report.skip(f, 'no PostgreSQL (set TEST_DATABASE_URL or DATABASE_URL)');
      return;
    }
    // migrated: the checks run as in the service, through the reader's function (JSON values)
    const db = await createTestDatabase({ migrate: true, prefix: 'weir_gx' });
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      for (const file of files) {
        const spec = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
          expectation_type: string;
          datasets: any[];
        };
        const type = canonicalType(spec.expectation_type);
        const isMap = !!type && (MAP_EXPECTATIONS as readonly string[]).includes(type);
        for (const [di, ds] of spec.datasets.entries()) {
          const dsOnly = asList(ds.only_for);
          const dsSuppress = asList(ds.suppress_test_for);
          const dsSkip = (dsOnly && !dsOnly.includes(BACKEND)) || dsSuppress?.includes(BACKEND);
          const table = `t_${file.replace(/\.json$/, '').slice(0, 40)}_${di}`
            .replace(/[^a-z0-9_]/gi, '_')
            .toLowerCase();
          if (!dsSkip) {
            const data = ds.data as Record<string, unknown[]>;
            const names = Object.keys(data);
            const n = names.length ? data[names[0]].length : 0;
            const declared = ds.schemas?.[BACKEND] as Record<string, string> | undefined;
            const types = names.map((name) => columnType(data[name], declared?.[name]));
            const cols = names.map((name, i) => `"${name}" ${types[i]}`);
            if (isMap) cols.push('"pk_index" integer');
            await c.query(`DROP TABLE IF EXISTS public.${table}`);
            await c.query(`CREATE TABLE public.${table} (${cols.join(', ')})`);
            for (let r = 0; r < n; r++) {
              const vals = names.map((name, i) => {
                const v = data[name][r];
                if (v === null || v === undefined) return null;
                return types[i] === 'text' && typeof v !== 'string'
                  ? typeof v === 'number' && !Number.isInteger(v)
                    ? String(v)
                    : String(v)
                  : v;
              });
              if (isMap) vals.push(r);
              await c.query(`INSERT INTO public.${table} VALUES (${vals.map((_, i) => `$${i + 1}`).join(', ')})`, vals);
            }
          }
          for (const t of ds.tests as any[]) {
            const id = `${spec.expectation_type}/${t.title}`;
            if (dsSkip) {
              report.skip(id, 'dataset not built for postgresql');
              continue;
            }
            const only = asList(t.only_for);
            const suppress = asList(t.suppress_test_for);
            if (only && !only.some((o) => o === 'sqlalchemy' || o === BACKEND)) {
              report.skip(id, `only for ${only.join(', ')}`);
              continue;
            }
            if (suppress && suppress.some((s) => s === 'sqlalchemy' || s === BACKEND)) {
              report.skip(id, 'suppressed for SQL backends');
              continue;
            }
            if (!t.in || Array.isArray(t.in)) {
              report.skip(id, 'positional arguments');
              continue;
            }
            if ('allow_cross_type_comparisons' in t.in) {
              report.skip(id, 'allow_cross_type_comparisons is skipped on SQL backends by the harness');
              continue;
            }
            const kwargs = { result_format: 'COMPLETE', ...t.in };
            const e: Expectation = { type: spec.expectation_type, kwargs };
            let res;
            try {
              await prepareReader(c, [{ schema: 'public', table }]);
              const read = (text: string, values: unknown[]) => readAsReader(c, text, values);
              res = (
                await runSuite(c, { schema: 'public', table }, [e], {
                  indexColumn: isMap ? 'pk_index' : undefined,
                  resultFormat: 'COMPLETE',
                  read,
                })
              ).results[0];
            } catch (err) {
              res = {
                success: false,
                result: {},
                exception_info: { raised_exception: true, exception_message: (err as Error).message },
              } as any;
            }
            const why = compare(t, res);
            if (why) report.fail(id, why);
            else report.pass(id);
          }
        }
      }
    } finally {
      await c.end();
      await db.drop();
    }
  },
};

/** GX harness comparison; returns a reason when it differs. */
function compare(t: any, res: any): string | undefined {
  const out = t.out ?? {};
  const r = res.result ?? {};
  if (res.exception_info?.raised_exception && !('traceback_substring' in out)) {
    if (Object.keys(out).length === 0) return undefined;
    return `raised: ${res.exception_info.exception_message}`;
  }
  if (t.exact_match_out) {
    const exp = out;
    if (exp.success !== undefined && exp.success !== res.success)
      return `success ${res.success}, expected ${exp.success}`;
    for (const [k, v] of Object.entries(exp.result ?? {})) {
      if (k in r && !(k === 'observed_value' ? approx(r[k], v) : loose(r[k], v)))
        return `result.${k} ${JSON.stringify(r[k])}, expected ${JSON.stringify(v)}`;
    }
    return undefined;
  }
  for (const [key, v] of Object.entries(out)) {
    switch (key) {
      case 'success':
        if (res.success !== v) return `success ${res.success}, expected ${v}`;
        break;
      case 'observed_value':
        if (v && typeof v === 'object' && !Array.isArray(v) && 'values' in (v as object)) {
          if (!loose((r.observed_value ?? {}).values, (v as any).values))
            return `observed_value ${JSON.stringify(r.observed_value)}`;
        } else if (
          !(/\d\.\d+/.test(JSON.stringify(v)) || t.tolerance !== undefined
            ? approx(r.observed_value, v, t.tolerance)
            : loose(r.observed_value, v))
        ) {
          return `observed_value ${JSON.stringify(r.observed_value)}, expected ${JSON.stringify(v)}`;
        }
        break;
      case 'unexpected_list':
      case 'partial_unexpected_list':
        if (!loose(sorted(r[key] ?? []), sorted(v as unknown[])))
          return `${key} ${JSON.stringify(r[key])}, expected ${JSON.stringify(v)}`;
        break;
      case 'unexpected_index_list': {
        const actual = r.unexpected_index_list ?? [];
        if (actual.length > 0) {
          const byPk = (xs: any[]) => [...xs].sort((a, b) => (typeof a === 'object' ? a.pk_index - b.pk_index : a - b));
          if (!loose(byPk(actual), byPk(v as any[])))
            return `unexpected_index_list ${JSON.stringify(actual)}, expected ${JSON.stringify(v)}`;
        }
        break;
      }
      case 'details':
        if (!loose(r.details, v)) return `details ${JSON.stringify(r.details)}, expected ${JSON.stringify(v)}`;
        break;
      case 'value_counts':
        for (const vc of v as any[])
          if (!(r.details?.value_counts ?? []).some((x: any) => loose(x, vc)))
            return `value_counts lacks ${JSON.stringify(vc)}`;
        break;
      case 'traceback_substring':
        if (!res.exception_info?.raised_exception) return 'expected an error, none raised';
        break;
      case 'observed_value_list':
        if (!(v as unknown[]).some((x) => loose(r.observed_value, x)))
          return `observed_value ${JSON.stringify(r.observed_value)} not among ${JSON.stringify(v)}`;
        break;
      case 'unexpected_count':
        break;
      default:
        return `unknown key ${key}`;
    }
  }
  return undefined;
}

export const suites = [gxSuite];
