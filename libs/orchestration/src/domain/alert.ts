import { DESTINATION_NAME_RE, PIPELINE_NAME_RE } from './pipeline-spec';

/**
 * Alerts and where they go: the events, the payload posted to a webhook (`json`, or `slack` for a
 * Slack incoming webhook), the routing of an alert to destinations, and the retry backoff of a
 * delivery. Pure: no I/O.
 */

export const ALERT_EVENTS = [
  'run_failed',
  'retries_exhausted',
  'sla_missed',
  'quality_failed',
  'quality_warned',
] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];
/** What a delivery carries: an event, or the test alert sent by hand. */
export type AlertType = AlertEvent | 'test';

export const ALERT_FORMATS = ['json', 'slack'] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];

/** An alert as the JSON format posts it (README, "Alerts and SLAs"). */
export interface Alert {
  type: AlertType;
  /** One line saying what happened. */
  title: string;
  pipeline: string | null;
  runId: string | null;
  partition: string | null;
  step: string | null;
  error: { code: string | null; message: string } | null;
  /** Per type: `attempts` (retries_exhausted), `scheduledFor`, `deadline`, `runStatus` (sla_missed), the quality run. */
  details: Record<string, unknown>;
  /** When it happened (ISO). */
  at: string;
  /** API paths to look at (run, pipeline, quality run). */
  links: Record<string, string>;
}

/** A destination as configured (the URL in full: only the delivery reads it). */
export interface AlertDestinationSpec {
  name: string;
  url: string;
  format: AlertFormat;
  /** The events it gets (default: all). */
  events: AlertEvent[];
  /** Only alerts of these pipelines (null: any pipeline, and alerts with none). */
  pipelines: string[] | null;
}

/** Raised by the pure validation of a destination; the application maps it to a 400. */
export class AlertDestinationSpecError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'AlertDestinationSpecError';
  }
}

/** Validates a destination as given over REST; every problem at once. `name` comes from the path on PUT. */
export function parseAlertDestination(raw: unknown, name?: string): AlertDestinationSpec {
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new AlertDestinationSpecError(['expected an object {name, url, format, events, pipelines}']);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['name', 'url', 'format', 'events', 'pipelines'].includes(k)) problems.push(`unknown key "${k}"`);
  const given = o['name'] ?? name;
  if (typeof given !== 'string' || !DESTINATION_NAME_RE.test(given))
    problems.push(`name: ${JSON.stringify(given ?? null)} must match ${DESTINATION_NAME_RE.source}`);
  else if (name !== undefined && given !== name) problems.push(`name: a destination keeps its name ("${name}")`);
  const url = o['url'];
  let parsed: URL | null = null;
  try {
    parsed = typeof url === 'string' ? new URL(url) : null;
  } catch {
    parsed = null;
  }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) problems.push('url: required, an http(s) URL');
  const format = o['format'] ?? 'json';
  if (!(ALERT_FORMATS as readonly unknown[]).includes(format))
    problems.push(`format: ${JSON.stringify(format)} must be one of ${ALERT_FORMATS.join(', ')}`);
  let events: AlertEvent[] = [...ALERT_EVENTS];
  if (o['events'] !== undefined && o['events'] !== null) {
    if (!Array.isArray(o['events']) || o['events'].length === 0)
      problems.push(`events: a non-empty list of ${ALERT_EVENTS.join(', ')}`);
    else {
      events = [];
      o['events'].forEach((e, i) => {
        if (!(ALERT_EVENTS as readonly unknown[]).includes(e))
          problems.push(`events[${i}]: ${JSON.stringify(e)} must be one of ${ALERT_EVENTS.join(', ')}`);
        else if (!events.includes(e as AlertEvent)) events.push(e as AlertEvent);
      });
    }
  }
  let pipelines: string[] | null = null;
  if (o['pipelines'] !== undefined && o['pipelines'] !== null) {
    if (!Array.isArray(o['pipelines']) || o['pipelines'].length === 0)
      problems.push('pipelines: a non-empty list of pipeline names, or null for all');
    else {
      pipelines = [];
      o['pipelines'].forEach((p, i) => {
        if (typeof p !== 'string' || !PIPELINE_NAME_RE.test(p))
          problems.push(`pipelines[${i}]: ${JSON.stringify(p)} must match ${PIPELINE_NAME_RE.source}`);
        else if (!pipelines!.includes(p)) pipelines!.push(p);
      });
    }
  }
  if (problems.length) throw new AlertDestinationSpecError(problems);
  return { name: given as string, url: url as string, format: format as AlertFormat, events, pipelines };
}

/**
 * Whether a destination gets an alert. An event it does not subscribe to: never. Then a pipeline's
 * alert goes to the destinations its definition names (`alerts`), to those whose `pipelines` filter
 * names it, and, when its definition names none, to those with no filter. An alert with no pipeline
 * (a quality run not started by a pipeline) goes to those with no filter. The test alert goes to the
 * destination it is sent to only (not routed).
 */
export function routesTo(
  d: Pick<AlertDestinationSpec, 'name' | 'events' | 'pipelines'>,
  alert: Pick<Alert, 'type' | 'pipeline'>,
  pipelineAlerts: readonly string[],
): boolean {
  if (alert.type === 'test' || !d.events.includes(alert.type)) return false;
  if (alert.pipeline === null) return d.pipelines === null;
  if (pipelineAlerts.includes(d.name)) return true;
  if (d.pipelines !== null) return d.pipelines.includes(alert.pipeline);
  return pipelineAlerts.length === 0;
}

/** The URL as shown (responses, logs): scheme and host only; its path and query often carry the secret. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' && !u.search ? '/' : '/…'}`;
  } catch {
    return '<unparseable url>';
  }
}

/**
 * `text` (a receiver's answer) without the parts of `url` that may be secret, as written, decoded
 * or encoded: its path and query, each path segment and each query value of 8 characters or more
 * become `…`.
 */
export function withoutUrlSecrets(text: string, url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return text;
  }
  const parts = new Set<string>();
  const add = (p: string) => {
    if (p.length < 8) return;
    parts.add(p);
    for (const f of [
      () => decodeURIComponent(p),
      () => encodeURIComponent(p),
      () => encodeURIComponent(decodeURIComponent(p)),
    ])
      try {
        parts.add(f());
      } catch {
        // not valid percent-encoding: the text as written is enough
      }
  };
  add(u.pathname + u.search);
  add(u.pathname);
  add(u.search.slice(1));
  for (const seg of u.pathname.split('/')) add(seg);
  for (const [, v] of u.searchParams) add(v);
  let out = text;
  for (const p of [...parts].filter((p) => p.length >= 8).sort((a, b) => b.length - a.length))
    out = out.split(p).join('…');
  return out;
}

/**
 * The delay in ms before retrying a delivery after attempt `attempt` (1-based) failed: exponential
 * (`baseMs * 2^(attempt-1)`, at most `maxMs`) with equal jitter (half fixed, half random), so a
 * receiver that is down is not hammered and a retry never comes at once.
 */
export function deliveryBackoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1)
    throw new RangeError(`attempt must be a whole number >= 1, got ${attempt}`);
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 52));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (r * ceiling) / 2);
}

/** The body posted for `format`: the alert as it is (json, with `version`), or Slack incoming-webhook blocks. */
export function alertPayload(alert: Alert, format: AlertFormat): Record<string, unknown> {
  return format === 'slack' ? slackPayload(alert) : { version: 1, ...alert };
}

const ICON: Record<AlertType, string> = {
  run_failed: ':red_circle:',
  retries_exhausted: ':repeat:',
  sla_missed: ':alarm_clock:',
  quality_failed: ':x:',
  quality_warned: ':warning:',
  test: ':white_check_mark:',
};

/** Slack's mrkdwn needs &, < and > escaped; a section's text is at most 3000 characters. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Slack incoming-webhook message: `text` (the notification), a section with the detail, a context line. */
export function slackPayload(alert: Alert): Record<string, unknown> {
  const lines = [`${ICON[alert.type]} *${esc(alert.title)}*`];
  if (alert.error) lines.push(`\`\`\`${esc(cut(alert.error.message, 2000))}\`\`\``);
  const failures = alert.details['failures'];
  if (Array.isArray(failures))
    for (const f of failures.slice(0, 5) as { message?: string }[]) lines.push(`• ${esc(cut(String(f.message), 300))}`);
  const context = [
    `*${alert.type}*`,
    alert.pipeline && `pipeline \`${esc(alert.pipeline)}\``,
    alert.runId && `run \`${alert.runId}\``,
    alert.partition && `partition \`${esc(alert.partition)}\``,
    alert.step && `step \`${esc(alert.step)}\``,
    ...Object.entries(alert.links).map(([k, v]) => `${k}: ${esc(v)}`),
    alert.at,
  ].filter((x): x is string => typeof x === 'string' && x !== '');
  return {
    text: `${ICON[alert.type]} ${cut(alert.title, 300)}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: cut(lines.join('\n'), 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: cut(context.join(' · '), 3000) }] },
    ],
  };
}
