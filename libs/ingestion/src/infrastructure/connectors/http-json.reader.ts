import type { ConnectorRead, ConnectorReadRequest } from '../../application/ports/source-connector.port';
import { HttpJsonConnector, parseQueryWatermark, resolveSecret, SecretRef } from '../../domain/connector';
import { HttpUnnest, valueAt } from '../../domain/remote-connector';
import { SourceAccessDeniedError, SourceHttpFailedError } from '../../ingestion.errors';
import type { RawRecord, ReaderBatch, Unparseable } from '../readers/record.types';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** `Retry-After`: seconds or an HTTP date → ms (capped at 5 minutes), or undefined. */
export function retryAfterMs(h: string | null, now = Date.now()): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  const ms = Number.isFinite(s) ? s * 1000 : Date.parse(h) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 300_000) : undefined;
}

/** The `rel="next"` URL of a `Link` header, resolved against the request's URL. */
export function nextLink(link: string | null, base: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?/i.test(m[2])) return new URL(m[1], base).toString();
  }
  return undefined;
}

/**
 * Records with the contract's dotted `from` paths (`customer.address.city`) as flat fields; a
 * top-level object read only through such paths is dropped (it is not an unknown column).
 */
export function flattener(fields: string[]): (r: Record<string, unknown>) => Record<string, unknown> {
  const dotted = fields.filter((f) => f.includes('.'));
  if (!dotted.length) return (r) => r;
  const own = new Set(fields);
  const roots = [...new Set(dotted.map((f) => f.split('.')[0]))].filter((r) => !own.has(r));
  return (r) => {
    const out: Record<string, unknown> = { ...r };
    for (const f of dotted) if (!(f in r)) out[f] = valueAt(r, f);
    for (const root of roots) delete out[root];
    return out;
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const unparseable = (v: unknown, message: string): Unparseable => ({
  unparseable: true,
  text: JSON.stringify(v).slice(0, 100_000),
  message,
});

/**
 * What one record of a page becomes: its rows, shaped for the contract. `fields` are the source
 * fields the contract reads (`from` or the column name), `jsonb` those of its jsonb columns.
 * - unnest: one row per element of the array at `unnest.path` (see {@link HttpUnnest}), the record
 *   under `_parent` and the position as `_index` when the contract reads them;
 * - dotted `from` paths flattened ({@link flattener});
 * - a jsonb column's value kept as the JSON it is: a string becomes a JSON string (the engine
 *   would otherwise parse a string as JSON text), arrays and objects are stored as they came.
 */
export function recordShaper(
  unnest: HttpUnnest | undefined,
  fields: string[],
  jsonb: string[],
): (item: unknown) => (RawRecord | Unparseable)[] {
  const flat = flattener(fields);
  const strings = jsonb.length ? jsonb : undefined;
  const shape = (r: Record<string, unknown>): RawRecord => {
    let out = flat(r);
    if (strings)
      for (const f of strings)
        if (typeof out[f] === 'string') {
          if (out === r) out = { ...r };
          out[f] = JSON.stringify(out[f]);
        }
    return out;
  };
  if (!unnest) return (item) => [isRecord(item) ? shape(item) : unparseable(item, 'not a JSON object')];
  const parentKey = unnest.parent ?? '_parent';
  const indexKey = unnest.index ?? '_index';
  const withParent = fields.some((f) => f === parentKey || f.startsWith(`${parentKey}.`));
  const withIndex = fields.includes(indexKey);
  return (item) => {
    if (!isRecord(item)) return [unparseable(item, 'not a JSON object')];
    const list = valueAt(item, unnest.path);
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) return [unparseable(item, `${unnest.path} is not an array (connector.unnest.path)`)];
    return list.map((e, i) => {
      const row: Record<string, unknown> = isRecord(e) ? { ...e } : { value: e };
      if (withIndex) row[indexKey] = i;
      if (withParent) row[parentKey] = item;
      return shape(row);
    });
  };
}

/**
 * The checkpoint as an API expects it: a timestamp (PostgreSQL's text, `2026-01-01 00:00:08+00`)
 * as ISO 8601 in UTC (to the millisecond, never above the stored value: the engine drops rows at or
 * below the watermark, so a bound a little lower loses nothing); anything else as stored.
 */
export function asApiValue(stored: string, type: string): string {
  if (!/^(timestamp|timestamptz|date)\b/.test(type)) return stored;
  let s = stored.trim().replace(' ', 'T');
  if (/[+-]\d\d$/.test(s)) s += ':00';
  else if (type.startsWith('timestamp') && !/(Z|[+-]\d\d:\d\d)$/.test(s) && s.includes('T')) s += 'Z';
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : stored;
}

interface Page {
  url: string;
  /** Query (GET) or body (POST) parameters added for this page. */
  extra: Record<string, string | number>;
}

/**
 * http_json: a JSON API page by page (cursor, Link/next URL, page number or offset), with its
 * auth (bearer, basic, a header, OAuth2 client credentials; secrets from the environment), a rate
 * limit, retries with exponential backoff and jitter on 429/5xx/network errors that honour
 * `Retry-After`, a timeout per request, and a cap on pages per run. Incremental: the checkpoint
 * (the source's watermark) is sent as `incremental.param`; the engine keeps only rows past it.
 */
export async function openHttpJson(c: HttpJsonConnector, req: ConnectorReadRequest): Promise<ConnectorRead> {
  const secrets: string[] = [];
  const secret = (ref: SecretRef | string): string => {
    if (typeof ref === 'string') return ref;
    let v: string | undefined;
    try {
      v = resolveSecret(ref);
    } catch (e) {
      throw new SourceAccessDeniedError(`Cannot authenticate to the API: ${(e as Error).message}`);
    }
    secrets.push(v!);
    return v!;
  };
  const scrub = (s: string) => {
    let m = s;
    for (const x of secrets) if (x) m = m.split(x).join('***');
    return m.slice(0, 500);
  };
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [k, v] of Object.entries(c.headers ?? {})) headers[k] = secret(v);
  const auth = c.auth;
  let oauth: { clientId: string; clientSecret: string; token?: string; expires: number } | undefined;
  if (auth?.type === 'bearer') headers['authorization'] = `Bearer ${secret(auth.token)}`;
  else if (auth?.type === 'basic')
    headers['authorization'] =
      `Basic ${Buffer.from(`${secret(auth.username)}:${secret(auth.password)}`).toString('base64')}`;
  else if (auth?.type === 'header') headers[auth.name] = secret(auth.value);
  else if (auth?.type === 'oauth2')
    oauth = { clientId: secret(auth.clientId), clientSecret: secret(auth.clientSecret), expires: 0 };
  // query parameters: an API key in the query string resolved like a header's secret
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.params ?? {})) params[k] = secret(v);
  // a secret as it may appear in a message: itself, base64 (basic auth), URL-encoded (a query string)
  for (const s of [...secrets])
    for (const form of [
      Buffer.from(s).toString('base64'),
      encodeURIComponent(s),
      new URLSearchParams({ s }).toString().slice(2),
    ])
      if (form !== s) secrets.push(form);

  const method = c.method ?? 'GET';
  const retries = c.retries ?? 5;
  const backoff = c.backoffMs ?? 500;
  const timeoutMs = c.timeoutMs ?? 30_000;
  const maxPages = c.maxPages ?? 10_000;
  const minGap = c.rateLimit ? 1000 / c.rateLimit : 0;
  const shown = (() => {
    const u = new URL(c.url);
    return `${method} ${u.origin}${u.pathname}`;
  })();
  const fieldOf = (col: { name: string }) => req.source.options.mapping?.[col.name]?.from ?? col.name;
  const rowsOf = recordShaper(
    c.unnest,
    req.contract.columns.map(fieldOf),
    req.contract.columns.filter((col) => /^\s*jsonb\s*$/i.test(col.type)).map(fieldOf),
  );
  const cursorCol = req.contract.columns.find((col) => col.name === req.source.strategy.cursor);
  const stored = parseQueryWatermark(req.watermark)?.cursor;
  const since =
    req.source.strategy.kind === 'incremental' && c.incremental
      ? stored !== undefined
        ? asApiValue(stored, cursorCol?.type ?? 'text')
        : c.incremental.initial
      : undefined;
  let bytes = 0;
  let lastStart = 0;
  const local = new AbortController();
  const onAbort = () => local.abort();
  req.signal.addEventListener('abort', onAbort, { once: true });

  const token = async (force: boolean): Promise<string> => {
    if (!oauth || auth?.type !== 'oauth2') return '';
    if (!force && oauth.token && Date.now() < oauth.expires) return oauth.token;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope) form.set('scope', auth.scope);
    let res: Response;
    try {
      res = await fetch(auth.tokenUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(oauth.clientId)}:${encodeURIComponent(oauth.clientSecret)}`).toString('base64')}`,
        },
        body: form,
        signal: AbortSignal.any([local.signal, AbortSignal.timeout(timeoutMs)]),
      });
    } catch (e) {
      throw new SourceHttpFailedError(`The OAuth2 token endpoint did not answer: ${scrub((e as Error).message)}`);
    }
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number };
    if (!res.ok || !body.access_token)
      throw new SourceAccessDeniedError(
        `The OAuth2 token endpoint refused the client credentials (HTTP ${res.status})`,
      );
    secrets.push(body.access_token);
    oauth.token = body.access_token;
    oauth.expires = Date.now() + Math.max((body.expires_in ?? 3600) - 30, 1) * 1000;
    return oauth.token;
  };

  /** One page's JSON, after its retries. */
  const fetchPage = async (page: Page, n: number): Promise<{ json: unknown; res: Response }> => {
    const u = new URL(page.url);
    const sent: Record<string, string | number> = { ...params, ...page.extra };
    let body: string | undefined;
    if (method === 'GET') for (const [k, v] of Object.entries(sent)) u.searchParams.set(k, String(v));
    else body = JSON.stringify({ ...(c.body ?? {}), ...sent });
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      if (local.signal.aborted) throw new SourceHttpFailedError(`${shown}: the read was stopped`);
      const wait = lastStart + minGap - Date.now();
      if (wait > 0) await sleep(wait, local.signal);
      lastStart = Date.now();
      const h = { ...headers };
      if (body !== undefined) h['content-type'] = 'application/json';
      if (oauth) h['authorization'] = `Bearer ${await token(false)}`;
      let res: Response | undefined;
      let why: string;
      let delay: number | undefined;
      try {
        res = await fetch(u, {
          method,
          headers: h,
          body,
          redirect: 'follow',
          signal: AbortSignal.any([local.signal, AbortSignal.timeout(timeoutMs)]),
        });
      } catch (e) {
        if (local.signal.aborted) throw new SourceHttpFailedError(`${shown}: the read was stopped`);
        const timeout = (e as Error).name === 'TimeoutError';
        why = timeout
          ? `no answer within ${timeoutMs} ms`
          : `${(e as Error).message} ${String((e as { cause?: { code?: string } }).cause?.code ?? '')}`.trim();
        res = undefined;
      }
      if (res) {
        if (res.ok) {
          const text = await res.text().catch((e: Error) => {
            throw new SourceHttpFailedError(`${shown} page ${n}: the body broke off: ${scrub(e.message)}`);
          });
          bytes += Buffer.byteLength(text);
          try {
            return { json: JSON.parse(text), res };
          } catch (e) {
            throw new SourceHttpFailedError(
              `${shown} page ${n} is not JSON (${scrub((e as Error).message)}): ${JSON.stringify(scrub(text).slice(0, 120))}`,
            );
          }
        }
        const text = scrub(await res.text().catch(() => ''));
        if ((res.status === 401 || res.status === 403) && oauth && !refreshed) {
          refreshed = true;
          await token(true);
          attempt--;
          continue;
        }
        if (res.status === 401 || res.status === 403)
          throw new SourceAccessDeniedError(
            `The API refused the credentials: ${shown} answered HTTP ${res.status} ${JSON.stringify(text.slice(0, 200))}`,
          );
        if (res.status !== 429 && res.status < 500)
          throw new SourceHttpFailedError(
            `${shown} page ${n} answered HTTP ${res.status} ${JSON.stringify(text.slice(0, 200))}`,
          );
        why = `HTTP ${res.status}`;
        delay = retryAfterMs(res.headers.get('retry-after'));
      }
      if (attempt >= retries)
        throw new SourceHttpFailedError(`${shown} page ${n} failed after ${retries + 1} attempts: ${scrub(why!)}`);
      // exponential backoff with full jitter, unless the server said when
      delay ??= Math.min(backoff * 2 ** attempt, 60_000) * (0.5 + Math.random() / 2);
      await sleep(delay, local.signal);
    }
  };

  const g = c.pagination;
  const first: Page = { url: c.url, extra: {} };
  if (since !== undefined && c.incremental) first.extra[c.incremental.param] = since;
  if (g?.type === 'page') {
    first.extra[g.param] = g.start ?? 1;
    if (g.sizeParam) first.extra[g.sizeParam] = g.size!;
  } else if (g?.type === 'offset') {
    first.extra[g.offsetParam] = 0;
    first.extra[g.limitParam] = g.limit;
  }

  const batches = (async function* (): AsyncGenerator<ReaderBatch> {
    let page: Page | undefined = first;
    const seen = new Set<string>();
    for (let n = 1; page; n++) {
      if (n > maxPages)
        throw new SourceHttpFailedError(`${shown}: more than ${maxPages} pages (connector.maxPages) in one run`);
      const { json, res } = await fetchPage(page, n);
      const items = c.recordPath ? valueAt(json, c.recordPath) : json;
      if (!Array.isArray(items))
        throw new SourceHttpFailedError(
          `${shown} page ${n}: no array of records ${c.recordPath ? `at ${c.recordPath}` : '(the response is not an array; set recordPath)'}`,
        );
      const records: (RawRecord | Unparseable)[] = [];
      for (const item of items) for (const r of rowsOf(item)) records.push(r);
      if (records.length) yield { records };
      if (local.signal.aborted) return;
      let next: Page | undefined;
      if (g?.type === 'cursor') {
        const cur = valueAt(json, g.cursorPath);
        if (cur !== undefined && cur !== null && cur !== '' && items.length) {
          next = { url: page.url, extra: { ...page.extra, [g.param]: String(cur) } };
        }
      } else if (g?.type === 'link' || g?.type === 'next_url') {
        const raw =
          g.type === 'link' ? nextLink(res.headers.get('link'), res.url || page.url) : valueAt(json, g.nextPath);
        if (typeof raw === 'string' && raw && items.length)
          next = { url: new URL(raw, page.url).toString(), extra: {} };
      } else if (g?.type === 'page') {
        if (items.length && (!g.size || items.length >= g.size))
          next = { url: page.url, extra: { ...page.extra, [g.param]: Number(page.extra[g.param]) + 1 } };
      } else if (g?.type === 'offset') {
        if (items.length >= g.limit)
          next = {
            url: page.url,
            extra: { ...page.extra, [g.offsetParam]: Number(page.extra[g.offsetParam]) + g.limit },
          };
      }
      if (next) {
        const key = `${next.url} ${JSON.stringify(next.extra)}`;
        if (seen.has(key)) throw new SourceHttpFailedError(`${shown} page ${n}: the API sent the same next page again`);
        seen.add(key);
      }
      page = next;
    }
  })();

  return {
    batches,
    bytesRead: () => bytes,
    description: `${shown}${since !== undefined ? ` since ${since}` : ''}`,
    close: async () => {
      req.signal.removeEventListener('abort', onAbort);
      local.abort();
      await batches.return(undefined).catch(() => undefined);
    },
  };
}
