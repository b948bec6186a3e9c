/** What a masked value reads as in the audit log. */
export const AUDIT_MASK = '***';

/** Field names whose values are secrets: masked whatever they hold (an `{"env": NAME}` reference excepted). */
const SECRET_NAME =
  /(pass(word|wd|phrase)?$|^pwd$|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|signing[-_]?key|encryption[-_]?key|master[-_]?key|ssl[-_]?key|^key$|credential|^auth(orization)?$|cookie|^session|signature|^dsn$|connection[-_]?(string|url|uri)|database[-_]?url|warehouse[-_]?url)/i;
/** A URL with credentials in it (`postgres://user:pass@host/db`). */
const URL_WITH_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/\s@]*@/i;
/** A Weir API key, wherever it appears. */
const WEIR_KEY = /weir_[A-Za-z0-9_-]{20,}/g;
/** `key=value` pairs of a libpq connection string that hold secrets. */
const LIBPQ_SECRET = /\b(password|sslpassword|sslkey)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/gi;
/** Secret-looking query parameters of a URL (`?access_token=…`, `&api_key=…`, `&sig=…`). */
const QUERY_SECRET = /([?&](?:[a-z_-]*(?:token|secret|password|api[-_]?key|signature)|key|sig)=)[^&#\s]*/gi;

const MAX_STRING = 500;
const MAX_ITEMS = 50;
const MAX_KEYS = 100;
const MAX_DEPTH = 8;
/** Longest redacted value kept whole, in JSON characters; a larger one is summarised. */
export const AUDIT_MAX_DIFF_CHARS = 16_384;

function isEnvReference(v: unknown): v is { env: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as { env?: unknown }).env === 'string'
  );
}

/**
 * A string PostgreSQL can store in text and jsonb: NUL (which neither takes) shown as U+2400 (␀),
 * a lone surrogate half (not valid UTF-8) as U+FFFD. A refused request's body is recorded too,
 * and it may hold either.
 */
export function storable(s: string): string {
  // the same native checks as the input guard (isWellFormed); nothing copied when there is nothing to mend
  const w = s as string & { isWellFormed(): boolean; toWellFormed(): string };
  const out = s.includes('\u0000') ? s.replaceAll('\u0000', '\u2400') : s;
  return w.isWellFormed() ? out : (out as typeof w).toWellFormed();
}

function redactString(s: string): string {
  let out = storable(s)
    .replace(WEIR_KEY, AUDIT_MASK)
    .replace(LIBPQ_SECRET, (_m, k: string) => `${k}=${AUDIT_MASK}`)
    .replace(QUERY_SECRET, `$1${AUDIT_MASK}`);
  if (URL_WITH_CREDENTIALS.test(out)) out = out.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/i, `$1${AUDIT_MASK}@`);
  return out.length > MAX_STRING ? `${out.slice(0, MAX_STRING)}… (${out.length} characters)` : out;
}

function walk(v: unknown, depth: number): unknown {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string') return redactString(v);
  if (typeof v !== 'object') return v === undefined ? null : String(v);
  if (depth >= MAX_DEPTH) return '… (nested deeper)';
  if (Array.isArray(v)) {
    const items = v.slice(0, MAX_ITEMS).map((x) => walk(x, depth + 1));
    if (v.length > MAX_ITEMS) items.push(`… (${v.length - MAX_ITEMS} more items)`);
    return items;
  }
  const out: Record<string, unknown> = {};
  const entries = Object.entries(v as Record<string, unknown>);
  for (const [key, x] of entries.slice(0, MAX_KEYS)) {
    const k = storable(key);
    if (isEnvReference(x)) out[k] = { env: redactString(x.env) };
    // `key` also names merge keys (a list of columns): only a string under it is taken for a secret
    else if (SECRET_NAME.test(k) && x !== null && x !== undefined && x !== '' && !(k === 'key' && Array.isArray(x)))
      out[k] = AUDIT_MASK;
    else out[k] = walk(x, depth + 1);
  }
  if (entries.length > MAX_KEYS) out['…'] = `${entries.length - MAX_KEYS} more fields`;
  return out;
}

/**
 * A request body or a command's options as the audit log keeps it: values of secret-looking fields
 * (passwords, secrets, tokens, keys, connection strings and URLs) masked — an `{"env": NAME}`
 * reference keeps its variable's name, which is no secret —, credentials in URLs and libpq
 * strings masked, Weir keys masked wherever they appear, long strings and arrays cut, and the
 * whole capped at {@link AUDIT_MAX_DIFF_CHARS} (beyond it: its top-level field names and its size).
 */
export function redactForAudit(value: unknown): unknown {
  if (value === undefined) return null;
  const r = walk(value, 0);
  const json = JSON.stringify(r) ?? 'null';
  if (json.length <= AUDIT_MAX_DIFF_CHARS) return r;
  return {
    truncated: true,
    chars: json.length,
    fields: typeof r === 'object' && r !== null && !Array.isArray(r) ? Object.keys(r).slice(0, MAX_KEYS) : undefined,
  };
}
