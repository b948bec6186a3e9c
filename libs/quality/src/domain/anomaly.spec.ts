import { robustZ } from './anomaly';

describe('robust z-score', () => {
  const cfg = { minHistory: 5, threshold: 3.5 };
  it('waits for enough history', () => {
    expect(robustZ(100, [1, 2, 3, 4], cfg)).toBeUndefined();
  });
  it('flags a spike and not normal variation, with the expected band', () => {
    const h = [100, 102, 98, 101, 99, 103, 97];
    expect(robustZ(101, h, cfg)).toMatchObject({ anomalous: false, median: 100 });
    const spike = robustZ(250, h, cfg)!;
    expect(spike.anomalous).toBe(true);
    expect(spike.band[0]).toBeLessThan(100);
    expect(spike.band[1]).toBeGreaterThan(100);
    expect(spike.band[1]).toBeLessThan(250);
  });
  it('is robust to an outlier already in the history', () => {
    expect(robustZ(101, [100, 100, 101, 99, 5000, 100, 102], cfg)!.anomalous).toBe(false);
  });
  it('on a flat history, any change is an anomaly', () => {
    expect(robustZ(10, [10, 10, 10, 10, 10], cfg)!.anomalous).toBe(false);
    expect(robustZ(11, [10, 10, 10, 10, 10], cfg)!.anomalous).toBe(true);
  });
});
