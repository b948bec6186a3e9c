import * as path from 'node:path';
import { ConfigError } from '@weir/platform';
import { catalogConfig } from './catalog.config';

describe('catalogConfig', () => {
  it('previews at most 1000 rows unless WEIR_PREVIEW_MAX_ROWS says otherwise', () => {
    expect(catalogConfig({ dataDir: '/d' }, {})).toEqual({
      exportRoot: path.resolve('/d/exports'),
      previewMaxRows: 1000,
    });
    expect(catalogConfig({ dataDir: '/d' }, { WEIR_PREVIEW_MAX_ROWS: '5000' }).previewMaxRows).toBe(5000);
  });

  it.each(['0', '1e3', 'all', '100001'])('refuses WEIR_PREVIEW_MAX_ROWS=%s naming it', (v) => {
    expect(() => catalogConfig({ dataDir: '/d' }, { WEIR_PREVIEW_MAX_ROWS: v })).toThrow(ConfigError);
    expect(() => catalogConfig({ dataDir: '/d' }, { WEIR_PREVIEW_MAX_ROWS: v })).toThrow(
      /WEIR_PREVIEW_MAX_ROWS must be a whole number of rows, from 1 to 100000/,
    );
  });
});
