/**
 * CSV conformance: Weir's real CSV reader (the one ingestion runs use: byte decoding, BOM,
 * CsvParser) against csv-spectrum and the plain-parser CSVW tests in ../shared/corpora/csv.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { decodeText, openBytes } from '../src/infrastructure/input-file.util';
import { readCsv } from '../src/infrastructure/readers/csv.reader';
import type { ConformanceSuite } from '@weir/platform/testing';

/** The shape tools/conformance/run.ts expects (kept structural: a lib does not import tools). */

async function parseFile(file: string): Promise<{ header: string[]; rows: string[][]; unparseable: number }> {
  const { stream } = openBytes(file);
  let header: string[] = [];
  const rows: string[][] = [];
  let unparseable = 0;
  for await (const b of readCsv(decodeText(stream, 'utf8'))) {
    if (b.header) header = b.header;
    for (const r of b.records) {
      if (Array.isArray(r)) rows.push(r);
      else unparseable++;
    }
  }
  return { header, rows, unparseable };
}

const KNOWN_BAD: Record<string, string> = {
  location_coordinates:
    'known-bad upstream fixture (expected JSON is one object and disagrees with the CSV); see corpora/csv/README.txt',
};

export const csvSpectrum: ConformanceSuite = {
  name: 'csv-spectrum',
  corpus: 'csv/csv-spectrum',
  async run(dir, report) {
    const names = fs
      .readdirSync(path.join(dir, 'csvs'))
      .filter((f) => f.endsWith('.csv'))
      .map((f) => f.slice(0, -4))
      .sort();
    for (const name of names) {
      if (KNOWN_BAD[name]) {
        report.skip(name, KNOWN_BAD[name]);
        continue;
      }
      const expected = JSON.parse(fs.readFileSync(path.join(dir, 'json', `${name}.json`), 'utf8')) as Record<
        string,
        string
      >[];
      const { header, rows, unparseable } = await parseFile(path.join(dir, 'csvs', `${name}.csv`));
      const actual = rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
      if (unparseable === 0 && isDeepStrictEqual(actual, expected)) report.pass(name);
      else
        report.fail(
          name,
          `expected ${JSON.stringify(expected).slice(0, 300)} got ${JSON.stringify(actual).slice(0, 300)} (${unparseable} unparseable)`,
        );
    }
  },
};

const BASE = 'http://www.w3.org/2013/csvw/tests/';

interface ManifestEntry {
  id: string;
  type: string;
  action: string;
  result?: string;
  implicit?: string[];
  option?: { metadata?: string; minimal?: boolean };
  httpLink?: string;
}

/** The CSVW CSV-to-JSON output a plain parser can produce: header as names, all strings, empty cells absent. */
function toCsvw(url: string, header: string[], rows: string[][], minimal: boolean): unknown {
  const describes = rows.map((r) =>
    Object.fromEntries(header.map((h, i) => [h, r[i]]).filter(([, v]) => v !== '' && v !== undefined)),
  );
  if (minimal) return describes;
  return {
    tables: [{ url, row: describes.map((d, i) => ({ url: `${url}#row=${i + 2}`, rownum: i + 1, describes: [d] })) }],
  };
}

export const csvwPlain: ConformanceSuite = {
  name: 'csvw-plain',
  corpus: 'csv/csvw-tests',
  async run(dir, report) {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest-json.jsonld'), 'utf8')) as {
      entries: ManifestEntry[];
    };
    for (const e of manifest.entries) {
      const id = e.id.split('#')[1];
      if (!e.action.split('?')[0].endsWith('.csv')) continue; // metadata-driven tests: not a CSV parser's job
      if (e.implicit?.length || e.option?.metadata || e.httpLink || e.action.includes('?')) {
        report.skip(id, 'needs CSVW metadata discovery/processing (out of scope for a plain CSV parser)');
        continue;
      }
      const { header, rows, unparseable } = await parseFile(path.join(dir, e.action));
      const actual = toCsvw(BASE + e.action, header, rows, !!e.option?.minimal);
      const expected = JSON.parse(fs.readFileSync(path.join(dir, e.result!), 'utf8'));
      if (unparseable === 0 && isDeepStrictEqual(actual, expected)) report.pass(id);
      else report.fail(id, `output differs from ${e.result}: got ${JSON.stringify(actual).slice(0, 300)}`);
    }
  },
};

export const suites = [csvSpectrum, csvwPlain];
