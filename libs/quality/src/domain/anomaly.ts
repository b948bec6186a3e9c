/** Anomaly settings (suite meta `anomalies`). */
export interface AnomalyConfig {
  enabled: boolean;
  /** How many previous values to compare with. */
  history: number;
  /** No verdict before this many previous values. */
  minHistory: number;
  /** |robust z| above this is an anomaly. */
  threshold: number;
  severity: 'warn' | 'error';
  /** Columns whose distinct count is tracked (each costs a sort in the scan). */
  distinctColumns?: string[];
}

export const DEFAULT_ANOMALY: AnomalyConfig = {
  enabled: true,
  history: 20,
  minHistory: 5,
  threshold: 3.5,
  severity: 'warn',
};

export interface AnomalyVerdict {
  anomalous: boolean;
  z: number;
  median: number;
  mad: number;
  band: [number, number];
  history: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Robust z-score of `value` against `history`: 0.6745 · (x − median) / MAD. When MAD is 0 (a flat
 * history), the mean absolute deviation stands in (× 1.2533); when that is 0 too, any change is
 * an anomaly. Returns undefined while the history is shorter than `minHistory`.
 */
export function robustZ(
  value: number,
  history: number[],
  cfg: Pick<AnomalyConfig, 'minHistory' | 'threshold'>,
): AnomalyVerdict | undefined {
  if (history.length < cfg.minHistory) return undefined;
  const med = median(history);
  let mad = median(history.map((x) => Math.abs(x - med)));
  let scale = mad / 0.6745;
  if (mad === 0) {
    const meanAd = history.reduce((a, x) => a + Math.abs(x - med), 0) / history.length;
    scale = meanAd * 1.2533;
    mad = meanAd;
  }
  const z = scale === 0 ? (value === med ? 0 : Infinity * Math.sign(value - med)) : (value - med) / scale;
  const half = cfg.threshold * scale;
  return {
    anomalous: Math.abs(z) > cfg.threshold,
    z,
    median: med,
    mad,
    band: [med - half, med + half],
    history: history.length,
  };
}
