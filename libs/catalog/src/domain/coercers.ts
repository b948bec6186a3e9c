/**
 * Per-type coercion to the canonical text PostgreSQL accepts for that type. Each coercer is
 * stricter than PostgreSQL (never looser), so a value that passes never fails inside COPY.
 * Returns the canonical string, or a {@link Fail}.
 */
export interface Fail {
  fail: true;
  message: string;
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

export const coerceInteger: Coercer = (s) => intIn(s, 10, INT_MIN);
export const coerceBigint: Coercer = (s) => intIn(s, 19, BIGINT_MIN);

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
    const m = NUM_RE.exec(s);
    if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return fail(`not a number: ${JSON.stringify(s.slice(0, 40))}`);
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
    if (intPart.length > maxInt) return fail(`numeric field overflow: ${s.slice(0, 40)} does not fit numeric(${precision},${scale})`);
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

function timestampCoercer(withZone: boolean): Coercer {
  return (s) => {
    const m = TS_RE.exec(s);
    if (!m || !validDate(+m[1], +m[2], +m[3]) || +m[4] > 23 || +m[5] > 59 || (m[6] !== undefined && +m[6] > 59)) {
      return fail(`not a timestamp (YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]${withZone ? '[Z|±HH[:MM]]' : ''}): ${JSON.stringify(s.slice(0, 40))}`);
    }
    if (m[8] !== undefined) {
      if (!withZone) return fail(`timestamp without time zone given an offset (${m[8]}); use timestamptz or drop the offset`);
      const off = m[8].toUpperCase();
      if (off !== 'Z' && (+off.slice(1, 3) > 15 || (off.length > 3 && +off.slice(-2) > 59))) return fail(`bad UTC offset ${m[8]}`);
    }
    return s;
  };
}
export const coerceTimestamp = timestampCoercer(false);
export const coerceTimestamptz = timestampCoercer(true);

const UUID_RE = /^\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;
export const coerceUuid: Coercer = (s) => {
  const m = UUID_RE.exec(s);
  if (!m || (s.startsWith('{') !== s.endsWith('}'))) return fail(`not a uuid: ${JSON.stringify(s.slice(0, 40))}`);
  return `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toLowerCase();
};

const LONE_SURROGATE_ESCAPE = /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/;
export const coerceJsonb: Coercer = (s) => {
  try {
    JSON.parse(s);
  } catch {
    return fail('not valid JSON');
  }
  if (s.includes('\\u0000')) return fail('JSON with \\u0000 cannot be stored in jsonb');
  if (s.includes('\\u') && LONE_SURROGATE_ESCAPE.test(s)) return fail('JSON with an unpaired surrogate escape cannot be stored in jsonb');
  return s;
};

export const coerceText: Coercer = (s) => (s.includes('\u0000') ? fail('text cannot contain NUL (\\u0000) characters') : s);
