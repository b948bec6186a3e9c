/**
 * The Python modules dbt hands templates as `modules`: `datetime`, `re`, `pytz`, `itertools`,
 * `time` — the parts dbt projects use, with Python's names and semantics.
 */
import { splitArgs } from './jinja';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** A naive or UTC datetime (`tz` 'UTC' or null), as Python's datetime.datetime. */
export class PyDatetime {
  constructor(
    /** Milliseconds, read as UTC wall-clock fields. */
    readonly ms: number,
    readonly tz: string | null = null,
    readonly dateOnly = false,
  ) {}
  private get d(): Date {
    return new Date(this.ms);
  }
  get year(): number {
    return this.d.getUTCFullYear();
  }
  get month(): number {
    return this.d.getUTCMonth() + 1;
  }
  get day(): number {
    return this.d.getUTCDate();
  }
  get hour(): number {
    return this.d.getUTCHours();
  }
  get minute(): number {
    return this.d.getUTCMinutes();
  }
  get second(): number {
    return this.d.getUTCSeconds();
  }
  get microsecond(): number {
    return this.d.getUTCMilliseconds() * 1000;
  }
  get tzinfo(): unknown {
    return this.tz ? { zone: this.tz, toString: () => this.tz } : null;
  }
  strftime(fmt: string): string {
    const d = this.d;
    return fmt.replace(/%([a-zA-Z%])/g, (_m, c: string) => {
      switch (c) {
        case 'Y':
          return String(d.getUTCFullYear());
        case 'y':
          return pad(d.getUTCFullYear() % 100);
        case 'm':
          return pad(d.getUTCMonth() + 1);
        case 'd':
          return pad(d.getUTCDate());
        case 'H':
          return pad(d.getUTCHours());
        case 'I':
          return pad(((d.getUTCHours() + 11) % 12) + 1);
        case 'p':
          return d.getUTCHours() < 12 ? 'AM' : 'PM';
        case 'M':
          return pad(d.getUTCMinutes());
        case 'S':
          return pad(d.getUTCSeconds());
        case 'f':
          return pad(d.getUTCMilliseconds() * 1000, 6);
        case 'j':
          return pad(Math.floor((this.ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1, 3);
        case 'A':
          return DAYS[d.getUTCDay()];
        case 'a':
          return DAYS[d.getUTCDay()].slice(0, 3);
        case 'B':
          return MONTHS[d.getUTCMonth()];
        case 'b':
          return MONTHS[d.getUTCMonth()].slice(0, 3);
        case 'w':
          return String(d.getUTCDay());
        case 'z':
          return this.tz ? '+0000' : '';
        case 'Z':
          return this.tz ?? '';
        case '%':
          return '%';
        default:
          return `%${c}`;
      }
    });
  }
  isoformat(sep = 'T'): string {
    if (this.dateOnly) return this.strftime('%Y-%m-%d');
    const frac = this.microsecond ? `.${pad(this.microsecond, 6)}` : '';
    return `${this.strftime(`%Y-%m-%d${sep}%H:%M:%S`)}${frac}${this.tz ? '+00:00' : ''}`;
  }
  date(): PyDatetime {
    return new PyDatetime(Date.UTC(this.year, this.month - 1, this.day), null, true);
  }
  replace(...a: unknown[]): PyDatetime {
    const { kwargs } = splitArgs(a);
    const v = (k: string, cur: number) => (kwargs[k] !== undefined ? Number(kwargs[k]) : cur);
    const ms = Date.UTC(
      v('year', this.year),
      v('month', this.month) - 1,
      v('day', this.day),
      v('hour', this.hour),
      v('minute', this.minute),
      v('second', this.second),
      Math.floor(v('microsecond', this.microsecond) / 1000),
    );
    const tz = 'tzinfo' in kwargs ? (kwargs['tzinfo'] ? 'UTC' : null) : this.tz;
    return new PyDatetime(ms, tz, this.dateOnly);
  }
  astimezone(): PyDatetime {
    return new PyDatetime(this.ms, 'UTC');
  }
  timestamp(): number {
    return this.ms / 1000;
  }
  weekday(): number {
    return (this.d.getUTCDay() + 6) % 7;
  }
  isoweekday(): number {
    return this.weekday() + 1;
  }
  toString(): string {
    return this.dateOnly ? this.isoformat() : this.isoformat(' ');
  }
  /** `dt + timedelta` / `dt - timedelta` through the template's `+`/`-`: JavaScript adds valueOf. */
  valueOf(): number {
    return this.ms;
  }
}

export class PyTimedelta {
  constructor(readonly ms: number) {}
  get days(): number {
    return Math.floor(this.ms / 86400000);
  }
  get seconds(): number {
    return Math.floor((this.ms % 86400000) / 1000);
  }
  total_seconds(): number {
    return this.ms / 1000;
  }
  toString(): string {
    const s = Math.floor(this.ms / 1000);
    const days = Math.floor(s / 86400);
    const rest = s % 86400;
    const hms = `${Math.floor(rest / 3600)}:${pad(Math.floor((rest % 3600) / 60))}:${pad(rest % 60)}`;
    return days ? `${days} day${days === 1 ? '' : 's'}, ${hms}` : hms;
  }
}

function strptime(s: string, fmt: string): PyDatetime {
  const fields: Record<string, number> = { Y: 1900, m: 1, d: 1, H: 0, M: 0, S: 0, f: 0 };
  let re = '^';
  const order: string[] = [];
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (c === '%' && i + 1 < fmt.length) {
      const k = fmt[++i];
      order.push(k);
      re += k === 'Y' ? '(\\d{4})' : k === 'f' ? '(\\d{1,6})' : k === 'z' ? '([+-]\\d{2}:?\\d{2}|Z)' : '(\\d{1,2})';
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const m = new RegExp(`${re}$`).exec(s);
  if (!m) throw new Error(`time data '${s}' does not match format '${fmt}'`);
  order.forEach((k, i) => {
    if (k !== 'z') fields[k] = k === 'f' ? Number(m[i + 1].padEnd(6, '0')) : Number(m[i + 1]);
  });
  return new PyDatetime(
    Date.UTC(
      fields['Y'],
      fields['m'] - 1,
      fields['d'],
      fields['H'],
      fields['M'],
      fields['S'],
      Math.floor(fields['f'] / 1000),
    ),
    order.includes('z') ? 'UTC' : null,
  );
}

function timedelta(...a: unknown[]): PyTimedelta {
  const { positional, kwargs } = splitArgs(a);
  const n = (k: string, i: number) => Number(kwargs[k] ?? positional[i] ?? 0);
  return new PyTimedelta(
    n('days', 0) * 86400000 +
      n('seconds', 1) * 1000 +
      n('microseconds', 2) / 1000 +
      n('milliseconds', 3) +
      n('minutes', 4) * 60000 +
      n('hours', 5) * 3600000 +
      n('weeks', 6) * 7 * 86400000,
  );
}

const datetimeClass = Object.assign(
  (...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    const n = (k: string, i: number, d: number) => Number(kwargs[k] ?? positional[i] ?? d);
    return new PyDatetime(
      Date.UTC(
        n('year', 0, 1970),
        n('month', 1, 1) - 1,
        n('day', 2, 1),
        n('hour', 3, 0),
        n('minute', 4, 0),
        n('second', 5, 0),
      ),
      kwargs['tzinfo'] ? 'UTC' : null,
    );
  },
  {
    now: (tz?: unknown) => new PyDatetime(Date.now(), tz ? 'UTC' : null),
    utcnow: () => new PyDatetime(Date.now()),
    today: () => new PyDatetime(Date.now()),
    strptime: (s: string, f: string) => strptime(String(s), String(f)),
    fromisoformat: (s: string) => {
      const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
      if (Number.isNaN(t)) throw new Error(`Invalid isoformat string: '${s}'`);
      return new PyDatetime(t, /[zZ]|[+-]\d\d:?\d\d$/.test(s) ? 'UTC' : null, /^\d{4}-\d\d-\d\d$/.test(s));
    },
    fromtimestamp: (s: number) => new PyDatetime(Number(s) * 1000),
    utcfromtimestamp: (s: number) => new PyDatetime(Number(s) * 1000),
    combine: (d: PyDatetime, t: { ms?: number }) => new PyDatetime(d.ms + (t?.ms ?? 0)),
  },
);

const dateClass = Object.assign(
  (y: number, m: number, d: number) => new PyDatetime(Date.UTC(Number(y), Number(m) - 1, Number(d)), null, true),
  {
    today: () => new PyDatetime(Date.now()).date(),
    fromisoformat: (s: string) => new PyDatetime(Date.parse(`${s}T00:00:00Z`), null, true),
  },
);

/** Python `re` over JavaScript regular expressions (the common syntax is shared). */
function pyRegex(pattern: string, flags = 0): RegExp {
  let p = String(pattern);
  let f = '';
  if (flags & 2) f += 'i';
  if (flags & 8) f += 'm';
  if (flags & 16) f += 's';
  p = p.replace(/\(\?P<(\w+)>/g, '(?<$1>').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  return new RegExp(p, f);
}

class PyMatch {
  constructor(private readonly m: RegExpExecArray) {}
  group(i: number | string = 0): string | null {
    return (typeof i === 'number' ? this.m[i] : this.m.groups?.[i]) ?? null;
  }
  groups(): (string | null)[] {
    return this.m.slice(1).map((x) => x ?? null);
  }
  groupdict(): Record<string, string | undefined> {
    return { ...(this.m.groups ?? {}) };
  }
  start(): number {
    return this.m.index;
  }
  end(): number {
    return this.m.index + this.m[0].length;
  }
}

const re = {
  IGNORECASE: 2,
  I: 2,
  MULTILINE: 8,
  M: 8,
  DOTALL: 16,
  S: 16,
  VERBOSE: 64,
  X: 64,
  match: (p: string, s: string, flags = 0) => {
    const m = pyRegex(`^(?:${p})`, flags).exec(String(s));
    return m ? new PyMatch(m) : null;
  },
  fullmatch: (p: string, s: string, flags = 0) => {
    const m = pyRegex(`^(?:${p})$`, flags).exec(String(s));
    return m ? new PyMatch(m) : null;
  },
  search: (p: string, s: string, flags = 0) => {
    const m = pyRegex(p, flags).exec(String(s));
    return m ? new PyMatch(m) : null;
  },
  findall: (p: string, s: string, flags = 0) => {
    const rx = new RegExp(pyRegex(p, flags).source, `${pyRegex(p, flags).flags}g`);
    return [...String(s).matchAll(rx)].map((m) => (m.length > 2 ? m.slice(1) : m.length === 2 ? m[1] : m[0]));
  },
  sub: (p: string, repl: string, s: string, count = 0, flags = 0) => {
    const rx = pyRegex(p, flags);
    const g = new RegExp(rx.source, `${rx.flags}${count ? '' : 'g'}`);
    return String(s).replace(
      g,
      String(repl)
        .replace(/\\(\d)/g, '$$$1')
        .replace(/\\g<(\w+)>/g, '$<$1>'),
    );
  },
  split: (p: string, s: string) => String(s).split(pyRegex(p)),
  escape: (s: string) => String(s).replace(/[.*+?^${}()|[\]\\\-]/g, '\\$&'),
  compile: (p: string, flags = 0) => ({
    pattern: p,
    match: (s: string) => re.match(p, s, flags),
    fullmatch: (s: string) => re.fullmatch(p, s, flags),
    search: (s: string) => re.search(p, s, flags),
    findall: (s: string) => re.findall(p, s, flags),
    sub: (repl: string, s: string, count = 0) => re.sub(p, repl, s, count, flags),
    split: (s: string) => re.split(p, s),
  }),
};

const utc = { zone: 'UTC', toString: () => 'UTC', localize: (d: PyDatetime) => new PyDatetime(d.ms, 'UTC') };

export const pyModules = {
  datetime: {
    datetime: datetimeClass,
    date: dateClass,
    timedelta,
    timezone: { utc },
    time: (h = 0, m = 0, s = 0) => ({ ms: ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000 }),
  },
  pytz: {
    utc,
    UTC: utc,
    timezone: (name: string) => ({
      zone: name,
      toString: () => name,
      localize: (d: PyDatetime) => new PyDatetime(d.ms, name),
    }),
  },
  re,
  itertools: {
    chain: (...lists: unknown[][]) => lists.flat(),
    product: (...lists: unknown[][]) =>
      lists.reduce<unknown[][]>((acc, l) => acc.flatMap((a) => l.map((x) => [...a, x])), [[]]),
    combinations: (l: unknown[], r: number) => {
      const out: unknown[][] = [];
      const rec = (start: number, cur: unknown[]) => {
        if (cur.length === r) return void out.push(cur);
        for (let i = start; i < l.length; i++) rec(i + 1, [...cur, l[i]]);
      };
      rec(0, []);
      return out;
    },
  },
  time: { time: () => Date.now() / 1000 },
};
