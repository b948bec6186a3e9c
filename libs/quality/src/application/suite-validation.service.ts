import { Inject, Injectable } from '@nestjs/common';
import { assertDataPlane } from '@weir/platform';
import { CATALOG, CatalogPort, DatasetContract, sqlType } from '@weir/catalog';
import { canonicalType, Expectation, EXPECTATION_TYPES } from '../domain/expectations';
import { ColumnInfo, compileSuite } from '../domain/suite-compiler';
import { InvalidRowConditionError, InvalidSuiteError, UnknownExpectationTypeError } from '../quality.errors';
import type { SuiteInput } from './quality.views';

/** A dataset's contract columns, as the suite compiler sees them. */
export function contractColumns(contract: DatasetContract): ColumnInfo[] {
  return contract.columns.map((c) => ({ name: c.name, type: sqlType(c) }));
}

/**
 * What every suite goes through before it is stored or run: expectation types normalised, checked
 * against the dataset's contract, `relationships.to` resolved to a warehouse table.
 */
@Injectable()
export class SuiteValidationService {
  constructor(@Inject(CATALOG) private readonly catalog: CatalogPort) {}

  /** `relationships.to` may name a dataset: resolve it to its warehouse table. */
  async resolveRefs(expectations: Expectation[]): Promise<Expectation[]> {
    return Promise.all(
      expectations.map(async (e) => {
        if (e.type !== 'relationships' || typeof e.kwargs['to'] !== 'string') return e;
        const to = String(e.kwargs['to']);
        if (to.includes('.')) {
          const [schema, table] = to.split('.');
          assertDataPlane(schema, table, 'A relationships check');
          return e;
        }
        const ref = await this.catalog.findDataset(to);
        if (ref) assertDataPlane(ref.schema, ref.table, 'A relationships check');
        return ref ? { ...e, kwargs: { ...e.kwargs, to: `${ref.schema}.${ref.table}` } } : e;
      }),
    );
  }

  /** Normalises and checks expectations against the dataset's columns; every problem in one error. */
  async check(input: SuiteInput): Promise<Expectation[]> {
    const dataset = await this.catalog.getDataset(input.dataset);
    if (!Array.isArray(input.expectations)) throw new InvalidSuiteError('expectations must be a list');
    const unknown = [...new Set(input.expectations.map((e) => String(e?.type)).filter((t) => !canonicalType(t)))];
    if (unknown.length) {
      throw new UnknownExpectationTypeError(
        `Unknown expectation type${unknown.length > 1 ? 's' : ''} ${unknown.map((t) => JSON.stringify(t)).join(', ')}; supported: ${EXPECTATION_TYPES.join(', ')} (GET /api/quality/expectation-types lists their kwargs)`,
        { unknown, supported: EXPECTATION_TYPES },
      );
    }
    const expectations = input.expectations.map((e) => ({
      type: canonicalType(String(e.type)) ?? String(e.type),
      kwargs: e.kwargs ?? {},
      ...(e.meta ? { meta: e.meta } : {}),
      severity: (e.severity ?? (e.kwargs?.['severity'] as 'warn' | 'error' | undefined) ?? 'error') as 'warn' | 'error',
    }));
    const compiled = compileSuite(
      { schema: dataset.schema, table: dataset.table },
      contractColumns(dataset.contract),
      await this.resolveRefs(expectations),
    );
    const problems = compiled.plans
      .filter((p) => p.error)
      .map((p) => `expectation ${p.index + 1} (${p.expectation.type}): ${p.error}`);
    for (const e of expectations)
      if (e.severity !== 'warn' && e.severity !== 'error') problems.push(`severity must be warn or error (${e.type})`);
    if (compiled.plans.some((p) => p.error?.startsWith('row_condition'))) {
      // a literal that does not fit its column would fail every later run (and every load): refused now
      throw new InvalidRowConditionError(`The suite is invalid: ${problems.join('; ')}`, { errors: problems });
    }
    if (problems.length)
      throw new InvalidSuiteError(`The suite is invalid: ${problems.join('; ')}`, { errors: problems });
    return expectations;
  }
}
