import { ConfigError } from '@weir/platform';
import { qualityConfig } from './quality.config';

describe('qualityConfig', () => {
  it('keeps at most 1000 unexpected values per check unless WEIR_QUALITY_SAMPLE_MAX says otherwise', () => {
    expect(qualityConfig({}).sampleMax).toBe(1000);
    expect(qualityConfig({ WEIR_QUALITY_SAMPLE_MAX: ' 50 ' }).sampleMax).toBe(50);
  });

  it.each(['0', '-3', 'lots', '100001'])('refuses WEIR_QUALITY_SAMPLE_MAX=%s naming it', (v) => {
    expect(() => qualityConfig({ WEIR_QUALITY_SAMPLE_MAX: v })).toThrow(ConfigError);
    expect(() => qualityConfig({ WEIR_QUALITY_SAMPLE_MAX: v })).toThrow(
      /WEIR_QUALITY_SAMPLE_MAX must be a whole number of values, from 1 to 100000/,
    );
  });
});
