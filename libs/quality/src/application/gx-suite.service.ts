import { Injectable } from '@nestjs/common';
import { isGxType } from '../domain/expectations';
import { InvalidSuiteError } from '../quality.errors';
import type { SuiteView } from './quality.views';
import { RegisterSuiteService } from './register-suite.service';
import { SuiteQueriesService } from './suite-queries.service';

type Json = Record<string, unknown>;

/** `meta.weir.expectations` (Weir's own checks, with their places) put back among the GX list. */
function withWeirExpectations(gxList: Json[], weir: Json | undefined): Json[] {
  const own = Array.isArray(weir?.['expectations']) ? (weir!['expectations'] as (Json & { index?: number })[]) : [];
  const list: Json[] = [...gxList];
  for (const o of [...own].sort((a, b) => Number(a.index ?? Infinity) - Number(b.index ?? Infinity))) {
    const { index, ...x } = o;
    list.splice(Number.isInteger(index) ? Math.min(Number(index), list.length) : list.length, 0, x);
  }
  return list;
}

/** Suites as GX suite JSON: POST /api/quality/suites/import and GET /suites/:id/gx. */
@Injectable()
export class GxSuiteService {
  constructor(
    private readonly register: RegisterSuiteService,
    private readonly suites: SuiteQueriesService,
  ) {}

  /**
   * Imports a GX suite JSON ({name|expectation_suite_name, expectations: [{type|expectation_type, kwargs, meta}]});
   * Weir's own checks exported under `meta.weir.expectations` go back to their places.
   */
  async importGx(dataset: string, gx: Json | undefined, name?: string): Promise<SuiteView> {
    // no body, or JSON that is not an object (a list, a number): not a suite
    if (!gx || typeof gx !== 'object' || Array.isArray(gx))
      throw new InvalidSuiteError('A GX suite is a JSON object with an "expectations" list');
    const gxList = gx['expectations'];
    if (!Array.isArray(gxList)) throw new InvalidSuiteError('A GX suite has an "expectations" list');
    const meta = (gx['meta'] && typeof gx['meta'] === 'object' ? { ...(gx['meta'] as Json) } : {}) as Json;
    const weir = meta['weir'] && typeof meta['weir'] === 'object' ? { ...(meta['weir'] as Json) } : undefined;
    const list = withWeirExpectations(gxList, weir);
    if (weir) {
      delete weir['expectations'];
      delete weir['dataset'];
      if (Object.keys(weir).length) meta['weir'] = weir;
      else delete meta['weir'];
    }
    gx = { ...gx, meta };
    const suiteName = name ?? (gx['name'] as string) ?? (gx['expectation_suite_name'] as string);
    if (typeof suiteName !== 'string' || suiteName.trim() === '')
      throw new InvalidSuiteError('The suite needs a name (name or expectation_suite_name)');
    const expectations = list.map((x: Json) => {
      // the export carries severity in meta: it becomes the severity again, not a meta key
      const { severity, ...meta } = (x['meta'] as Json | undefined) ?? {};
      return {
        type: String(x['type'] ?? x['expectation_type']),
        kwargs: (x['kwargs'] as Json) ?? {},
        ...(Object.keys(meta).length ? { meta } : {}),
        severity: (severity ?? (x['kwargs'] as Json | undefined)?.['severity']) as 'warn' | 'error' | undefined,
      };
    });
    return this.register.create({
      name: suiteName,
      dataset,
      expectations,
      meta: Object.keys(meta).length ? meta : null,
    });
  }

  /**
   * The suite as GX 1.x suite JSON: only GX's own types under `expectations` (real GX refuses
   * others); Weir's checks (freshness, relationships, …) under `meta.weir.expectations` with their
   * position, so an import round-trips.
   */
  async exportGx(id: string): Promise<Json> {
    const s = await this.suites.find(id);
    const all = s.expectations.map((e, index) => ({
      index,
      type: e.type,
      kwargs: e.kwargs,
      meta: { ...(e.meta ?? {}), severity: e.severity ?? 'error' },
    }));
    return {
      name: s.name,
      expectations: all.filter((e) => isGxType(e.type)).map(({ index: _index, ...e }) => e),
      meta: {
        ...(s.meta ?? {}),
        weir: {
          dataset: s.dataset,
          ...(all.some((e) => !isGxType(e.type)) ? { expectations: all.filter((e) => !isGxType(e.type)) } : {}),
        },
      },
    };
  }
}
