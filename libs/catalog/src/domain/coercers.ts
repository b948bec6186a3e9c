/**
 * Per-type coercion to the canonical text PostgreSQL accepts for that type. Each coercer is
 * stricter than PostgreSQL (never looser), so a value that passes never fails inside COPY.
 * Returns the canonical string, or a {@link Fail}.
 */
export interface Fail {
  fail: true;
  message: string;
  /** The value is too long for its column (dead-lettered as TOO_LONG, not TYPE_MISMATCH). */
  tooLong?: boolean;
}
export type Coerced = string | Fail;
export type Coercer = (s: string) => Coerced;

const fail = (message: string): Fail => ({ fail: true, message });
export const isFail = (v: Coerced): v is Fail => typeof v !== 'string';

const INT_RE = /^[+-]?\d+$/;
const INT_MIN = '2147483648';
const BIGINT_MIN = '9223372036854775808';

function intIn(s: string, digitsMax: number, limitNeg: string): Coerced {
  if (!INT_RE.test(s)) return fail(`not an integer: ${JSON.stringify(s.slice(0, 40))}`);
  const neg = s.charCodeAt(0) === 45;
  let digits = s.charCodeAt(0) === 43 || neg ? s.slice(1) : s;
  if (digits.length > 1 && digits.charCodeAt(0) === 48) digits = digits.replace(/^0+(?=\d)/, '');
  if (digits.length > digitsMax || (digits.length === digitsMax && (neg ? digits > limitNeg : digits >= limitNeg))) {
    return fail(`out of range: ${s.slice(0, 40)}`);
  }
  return neg && digits !== '0' ? '-' + digits : digits;
}

/** Plain digits, no sign, no leading zero, shorter than `max`: already canonical. */
function plainDigits(s: string, max: number): boolean {
  const n = s.length;
  if (n === 0 || n >= max || (n > 1 && s.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export const coerceInteger: Coercer = (s) => (plainDigits(s, 10) ? s : intIn(s, 10, INT_MIN));
export const coerceBigint: Coercer = (s) => (plainDigits(s, 19) ? s : intIn(s, 19, BIGINT_MIN));

const NUM_RE = /^([+-]?)(\d*)(?:\.(\d*))?$/;
const NUM_EXP_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?$/;

/** Adds one unit in the last place to a string of digits. */
function incrementDigits(d: string): string {
  const a = d.split('');
  let i = a.length - 1;
  while (i >= 0) {
    if (a[i] === '9') {
      a[i] = '0';
      i--;
    } else {
      a[i] = String.fromCharCode(a[i].charCodeAt(0) + 1);
      return a.join('');
    }
  }
  return '1' + a.join('');
}

/** numeric(p,s): rounds half away from zero to s places (as PostgreSQL does), refuses overflow. */
export function numericCoercer(precision?: number, scale = 0): Coercer {
  if (precision === undefined) {
    return (s) => (NUM_EXP_RE.test(s) ? s : fail(`not a number: ${JSON.stringify(s.slice(0, 40))}`));
  }
  const maxInt = precision - scale;
  return (s) => {
    // fast path: [-]digits[.digits] within precision and scale is accepted by PostgreSQL as is
    const n = s.length;
    let i = n > 0 && (s.charCodeAt(0) === 45 || s.charCodeAt(0) === 43) ? 1 : 0;
    while (i < n && s.charCodeAt(i) === 48 && i + 1 < n && s.charCodeAt(i + 1) !== 46) i++;
    let intDigits = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      intDigits++;
      i++;
    }
    let fracDigits = 0;
    let ok = intDigits > 0;
    if (i < n && s.charCodeAt(i) === 46) {
      i++;
      while (i < n) {
        const c = s.charCodeAt(i);
        if (c < 48 || c > 57) break;
        fracDigits++;
        i++;
      }
      ok = ok || fracDigits > 0;
    }
    if (ok && i === n && fracDigits <= scale && intDigits <= maxInt) return s;
    const m = NUM_RE.exec(s);
    if (!m || (m[2] === '' && (m[3] === undefined || m[3] === '')))
      return fail(`not a number: ${JSON.stringify(s.slice(0, 40))}`);
    const sign = m[1] === '-' ? '-' : '';
    let intPart = m[2].replace(/^0+/, '');
    let frac = m[3] ?? '';
    if (frac.length > scale) {
      const roundUp = frac.charCodeAt(scale) >= 53; // '5'
      frac = frac.slice(0, scale);
      if (roundUp) {
        const all = incrementDigits(intPart + frac);
        intPart = all.slice(0, all.length - scale);
        frac = all.slice(all.length - scale);
      }
    }
    if (intPart.length > maxInt)
      return fail(`numeric field overflow: ${s.slice(0, 40)} does not fit numeric(${precision},${scale})`);
    const out = (intPart || '0') + (scale > 0 ? '.' + frac.padEnd(scale, '0') : '');
    return sign && /[1-9]/.test(out) ? sign + out : out;
  };
}

const TRUE = new Set(['t', 'true', 'y', 'yes', 'on', '1']);
const FALSE = new Set(['f', 'false', 'n', 'no', 'off', '0']);
export const coerceBoolean: Coercer = (s) => {
  const v = s.toLowerCase();
  if (TRUE.has(v)) return 't';
  if (FALSE.has(v)) return 'f';
  return fail(`not a boolean: ${JSON.stringify(s.slice(0, 40))}`);
};

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function validDate(y: number, m: number, d: number): boolean {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (m === 2 && leap ? 29 : DAYS[m - 1]);
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
export const coerceDate: Coercer = (s) => {
  const m = DATE_RE.exec(s);
  if (!m || !validDate(+m[1], +m[2], +m[3])) return fail(`not a date (YYYY-MM-DD): ${JSON.stringify(s.slice(0, 40))}`);
  return s;
};

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Two ASCII digits at i as a number, or a negative number when they are not digits. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >>> 0 <= 9 && b >>> 0 <= 9 ? a * 10 + b : -1;
}

/**
 * Fast check of the usual ISO forms (YYYY-MM-DD[T ]HH:MM[:SS[.f…]][Z|±HH[:MM]]) without a regex;
 * returns false for anything else, which then takes the regex path (same verdict, with a message).
 */
function quickTimestamp(s: string, withZone: boolean): boolean {
  const n = s.length;
  if (n < 16 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58) return false;
  const sep = s.charCodeAt(10);
  if (sep !== 84 && sep !== 32) return false;
  const yh = two(s, 0);
  const yl = two(s, 2);
  const mo = two(s, 5);
  const d = two(s, 8);
  const h = two(s, 11);
  const mi = two(s, 14);
  if (yh < 0 || yl < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || mo < 1 || mo > 12 || d < 1) return false;
  if (d > 28 && !validDate(yh * 100 + yl, mo, d)) return false;
  if (yh === 0 && yl === 0) return false;
  let i = 16;
  if (i < n && s.charCodeAt(i) === 58) {
    const sec = two(s, i + 1);
    if (sec < 0 || sec > 59) return false;
    i += 3;
    if (i < n && s.charCodeAt(i) === 46) {
      const f0 = ++i;
      while (i < n && (s.charCodeAt(i) - 48) >>> 0 <= 9) i++;
      if (i === f0) return false;
    }
  }
  if (i === n) return true;
  if (!withZone) return false;
  const z = s.charCodeAt(i);
  if ((z === 90 || z === 122) && i + 1 === n) return true;
  if (z !== 43 && z !== 45) return false;
  const oh = two(s, i + 1);
  if (oh < 0 || oh > 15) return false;
  i += 3;
  if (i === n) return true;
  if (s.charCodeAt(i) === 58) i++;
  const om = two(s, i);
  return om >= 0 && om <= 59 && i + 2 === n;
}

function timestampCoercer(withZone: boolean): Coercer {
  return (s) => {
    if (quickTimestamp(s, withZone)) return s;
    const m = TS_RE.exec(s);
    if (!m || !validDate(+m[1], +m[2], +m[3]) || +m[4] > 23 || +m[5] > 59 || (m[6] !== undefined && +m[6] > 59)) {
      return fail(
        `not a timestamp (YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]${withZone ? '[Z|±HH[:MM]]' : ''}): ${JSON.stringify(s.slice(0, 40))}`,
      );
    }
    if (m[8] !== undefined) {
      if (!withZone)
        return fail(`timestamp without time zone given an offset (${m[8]}); use timestamptz or drop the offset`);
      const off = m[8].toUpperCase();
      if (off !== 'Z' && (+off.slice(1, 3) > 15 || (off.length > 3 && +off.slice(-2) > 59)))
        return fail(`bad UTC offset ${m[8]}`);
    }
    return s;
  };
}
export const coerceTimestamp = timestampCoercer(false);
export const coerceTimestamptz = timestampCoercer(true);

const UUID_RE = /^\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;
export const coerceUuid: Coercer = (s) => {
  const m = UUID_RE.exec(s);
  if (!m || s.startsWith('{') !== s.endsWith('}')) return fail(`not a uuid: ${JSON.stringify(s.slice(0, 40))}`);
  return `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toLowerCase();
};

const LONE_SURROGATE_ESCAPE =
  /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/;
export const coerceJsonb: Coercer = (s) => {
  try {
    JSON.parse(s);
  } catch {
    return fail('not valid JSON');
  }
  if (s.includes('\\u0000')) return fail('JSON with \\u0000 cannot be stored in jsonb');
  if (s.includes('\\u') && LONE_SURROGATE_ESCAPE.test(s))
    return fail('JSON with an unpaired surrogate escape cannot be stored in jsonb');
  return s;
};

export const coerceText: Coercer = (s) =>
  s.includes('\u0000') ? fail('text cannot contain NUL (\\u0000) characters') : s;

/** Characters that need work in a text value: COPY escapes, and NUL (refused). */
export const TEXT_SPECIAL = /[\\\t\n\r\u0000]/;

const SMALLINT_MIN = '32768';
export const coerceSmallint: Coercer = (s) => (plainDigits(s, 5) ? s : intIn(s, 5, SMALLINT_MIN));

const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const FLOAT_SPECIAL_RE = /^(?:[+-]?(?:inf|infinity)|nan)$/i;

/** real (`single`) or double precision: decimal or exponent notation, NaN, ±Infinity; refuses what PostgreSQL finds out of range. */
export function floatCoercer(single: boolean): Coercer {
  const name = single ? 'real' : 'double precision';
  return (s) => {
    if (FLOAT_SPECIAL_RE.test(s)) return s;
    if (!FLOAT_RE.test(s)) return fail(`not a number: ${JSON.stringify(s.slice(0, 40))}`);
    const n = single ? Math.fround(Number(s)) : Number(s);
    if (!Number.isFinite(n) || (n === 0 && /[1-9]/.test(s.replace(/[eE].*$/, ''))))
      return fail(`out of range for type ${name}: ${s.slice(0, 40)}`);
    return s;
  };
}
export const coerceReal = floatCoercer(true);
export const coerceDouble = floatCoercer(false);

const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;
/** time: `HH:MM[:SS[.ffffff]]` (24:00:00 allowed, as in PostgreSQL). */
export const coerceTime: Coercer = (s) => {
  const m = TIME_RE.exec(s);
  const h = m ? +m[1] : -1;
  const ok =
    m !== null &&
    +m[2] <= 59 &&
    (m[3] === undefined || +m[3] <= 59) &&
    (h <= 23 || (h === 24 && +m[2] === 0 && !/[1-9]/.test((m[3] ?? '') + (m[4] ?? ''))));
  return ok ? s : fail(`not a time (HH:MM[:SS[.ffffff]]): ${JSON.stringify(s.slice(0, 40))}`);
};

/** Interval units (PostgreSQL's spellings) and how many months, days or microseconds one is. */
const INTERVAL_UNITS: Record<string, { field: string; months?: number; days?: number; micros?: number }> = {};
for (const [names, spec] of [
  ['y yr yrs year years', { field: 'year', months: 12 }],
  ['decade decades', { field: 'decade', months: 120 }],
  ['c century centuries', { field: 'century', months: 1200 }],
  ['mil mils millennium millennia', { field: 'millennium', months: 12000 }],
  ['mon mons month months', { field: 'month', months: 1 }],
  ['w week weeks', { field: 'week', days: 7 }],
  ['d day days', { field: 'day', days: 1 }],
  ['h hr hrs hour hours', { field: 'hour', micros: 3_600_000_000 }],
  ['m min mins minute minutes', { field: 'minute', micros: 60_000_000 }],
  ['s sec secs second seconds', { field: 'second', micros: 1_000_000 }],
  ['ms msec msecs millisecond milliseconds', { field: 'ms', micros: 1000 }],
  ['us usec usecs microsecond microseconds', { field: 'us', micros: 1 }],
] as const)
  for (const n of names.split(' ')) INTERVAL_UNITS[n] = spec;
const INTERVAL_PART_RE = /([+-]?\d+(?:\.\d+)?)\s*([a-z]+)|([+-]?)(\d+):(\d{2})(?::(\d{2})(?:\.\d+)?)?/gy;
const ISO_INTERVAL_RE =
  /^P(?!$)(?:([+-]?\d+(?:\.\d+)?)Y)?(?:([+-]?\d+(?:\.\d+)?)M)?(?:([+-]?\d+(?:\.\d+)?)W)?(?:([+-]?\d+(?:\.\d+)?)D)?(?:T(?=[+\-\d])(?:([+-]?\d+(?:\.\d+)?)H)?(?:([+-]?\d+(?:\.\d+)?)M)?(?:([+-]?\d+(?:\.\d+)?)S)?)?$/;
/** Well inside PostgreSQL's limits (int32 months and days, int64 microseconds), so COPY never overflows. */
const INTERVAL_MAX = { months: 2e9, days: 2e9, micros: 9e18 };

/**
 * interval, validated cheaply and parsed by PostgreSQL: its unit form (`[@] 1 year 2 mons 3 days
 * [-]04:05:06 [ago]`, units y/yr/year, mon/month, w/week, d/day, h/hr/hour, m/min/minute,
 * s/sec/second, ms, us, decade, century, millennium, each at most once, a clock time instead of
 * hours/minutes/seconds) or ISO 8601 designators (`P1Y2M3DT4H5M6.5S`, `P2W`).
 */
export const coerceInterval: Coercer = (s) => {
  const bad = () =>
    fail(`not an interval (e.g. '1 day 02:00:00', '3 hours 30 minutes', 'P1DT2H'): ${JSON.stringify(s.slice(0, 40))}`);
  let months = 0;
  let days = 0;
  let micros = 0;
  const iso = ISO_INTERVAL_RE.exec(s);
  if (iso) {
    const per = [
      [12, 0, 0],
      [1, 0, 0],
      [0, 7, 0],
      [0, 1, 0],
      [0, 0, 3_600_000_000],
      [0, 0, 60_000_000],
      [0, 0, 1_000_000],
    ];
    per.forEach(([mo, d, us], i) => {
      const v = iso[i + 1] === undefined ? 0 : Number(iso[i + 1]);
      months += v * mo;
      days += v * d + (mo ? (v * mo - Math.trunc(v * mo)) * 30 : 0);
      micros += v * us + (d ? (v * d - Math.trunc(v * d)) * 86_400_000_000 : 0);
    });
  } else {
    let rest = s.trim();
    if (rest.startsWith('@')) rest = rest.slice(1).trimStart();
    if (/\sago$/i.test(rest)) rest = rest.slice(0, -3).trimEnd();
    rest = rest.toLowerCase();
    if (rest === '') return bad();
    const seen = new Set<string>();
    INTERVAL_PART_RE.lastIndex = 0;
    let at = 0;
    while (at < rest.length) {
      INTERVAL_PART_RE.lastIndex = at;
      const m = INTERVAL_PART_RE.exec(rest);
      if (!m) return bad();
      at = INTERVAL_PART_RE.lastIndex;
      if (at < rest.length && !/\s/.test(rest[at])) return bad();
      while (at < rest.length && /\s/.test(rest[at])) at++;
      if (m[2] !== undefined) {
        const unit = INTERVAL_UNITS[m[2]];
        if (!unit || seen.has(unit.field)) return bad();
        seen.add(unit.field);
        const v = Number(m[1]);
        if (unit.months) {
          months += v * unit.months;
          days += (v * unit.months - Math.trunc(v * unit.months)) * 30;
        } else if (unit.days) {
          days += v * unit.days;
          micros += (v * unit.days - Math.trunc(v * unit.days)) * 86_400_000_000;
        } else micros += v * (unit.micros as number);
      } else {
        // a clock time stands for hours, minutes and seconds
        if (['hour', 'minute', 'second', 'ms', 'us', 'clock'].some((f) => seen.has(f))) return bad();
        seen.add('clock');
        if (+m[5] > 59 || (m[6] !== undefined && +m[6] > 59)) return bad();
        micros += (m[3] === '-' ? -1 : 1) * (+m[4] * 3_600_000_000 + +m[5] * 60_000_000 + +(m[6] ?? 0) * 1_000_000);
      }
    }
    for (const f of ['hour', 'minute', 'second', 'ms', 'us']) if (seen.has(f) && seen.has('clock')) return bad();
  }
  if (
    Math.abs(months) > INTERVAL_MAX.months ||
    Math.abs(days) > INTERVAL_MAX.days ||
    Math.abs(micros) > INTERVAL_MAX.micros
  )
    return fail(`interval out of range: ${s.slice(0, 40)}`);
  return s;
};

const HEX_RE = /^\\x(?:[0-9a-fA-F]{2})*$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** bytea: `\x` then hex digits (PostgreSQL's hex format), or standard padded base64 (RFC 4648); written as `\x…`. */
export const coerceBytea: Coercer = (s) => {
  if (s.startsWith('\\x'))
    return HEX_RE.test(s)
      ? '\\x' + s.slice(2).toLowerCase()
      : fail(`not hex bytes (\\x followed by pairs of hex digits)`);
  if (!BASE64_RE.test(s)) return fail(`not bytes: expected \\x followed by hex digits, or base64`);
  return '\\x' + Buffer.from(s, 'base64').toString('hex');
};

/** json: any valid JSON, kept as written (PostgreSQL's json keeps the text). */
export const coerceJson: Coercer = (s) => {
  try {
    JSON.parse(s);
  } catch {
    return fail('not valid JSON');
  }
  return s;
};
