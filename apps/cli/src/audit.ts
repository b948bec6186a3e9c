import * as os from 'node:os';
import type { Command } from 'commander';
import { Client } from 'pg';
import { DomainError, Queryable, recordAudit } from '@weir/platform';
import { say } from './output';

/**
 * The `weir` commands that change something: each records one row in platform.audit_log (actor
 * `cli:<os user>`, method `CLI`, route `weir <command>`), written by {@link withContext} or, for
 * commands without a Nest context (migrate, dbt), by {@link auditWith}.
 */
const MUTATING = new Set([
  'weir keys create',
  'weir keys revoke',
  'weir keys rotate',
  'weir migrate',
  'weir project import',
  'weir project delete',
  'weir build',
  'weir load',
  'weir pipelines apply',
  'weir pipelines delete',
  'weir pipelines run',
  'weir runs cancel',
  'weir retention',
  'weir dbt',
]);
/** dbt commands that only read or write files, not the warehouse. */
const DBT_READ_ONLY = new Set(['ls', 'list', 'compile', 'parse', 'debug', 'docs', 'deps', 'clean']);
/** Options that only shape the output. */
const OUTPUT_OPTIONS = new Set(['json', 'verbose']);

interface Invocation {
  route: string;
  args: string[];
  options: Record<string, unknown>;
  at: Date;
  t0: number;
  /** The row once written: a command that opens several contexts updates it at each one's end. */
  rowId?: string;
}

let current: Invocation | undefined;

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env['USER'] ?? 'unknown';
  }
}

/** Called before every action (the program's preAction hook): notes the command when it changes something. */
export function beginCommand(cmd: Command): void {
  const route = commandPath(cmd);
  const args = cmd.args.map(String);
  const mutating = MUTATING.has(route) && !(route === 'weir dbt' && DBT_READ_ONLY.has(args[0] ?? ''));
  if (!mutating) {
    current = undefined;
    return;
  }
  const options = Object.fromEntries(Object.entries(cmd.opts()).filter(([k]) => !OUTPUT_OPTIONS.has(k)));
  current = { route, args, options, at: new Date(), t0: Date.now() };
}

const FAILED_STATUSES = new Set(['failed', 'cancelled', 'interrupted', 'timed_out']);

/** How a context's result ended: a run or build it waited for may have failed without throwing. */
function failureOf(result: unknown): { failed: boolean; code: string | null } {
  if (typeof result !== 'object' || result === null) return { failed: false, code: null };
  const r = result as { status?: unknown; error?: { code?: unknown } | null; errorCode?: unknown };
  const failed = typeof r.status === 'string' && FAILED_STATUSES.has(r.status);
  const code = typeof r.error?.code === 'string' ? r.error.code : typeof r.errorCode === 'string' ? r.errorCode : null;
  return { failed, code: failed ? code : null };
}

/**
 * Records the current command through `q` when it changes something: once per command, the row
 * updated when the command opens another context. `error` is what it threw; `result` what it
 * returned (a run or build that ended `failed` or `cancelled` makes the row `failed`). An insert that
 * fails is a warning on stderr, never the command's failure.
 */
export async function recordCommand(q: Queryable, outcome: { error?: unknown; result?: unknown }): Promise<void> {
  const c = current;
  if (!c) return;
  const fromResult = failureOf(outcome.result);
  const failed =
    outcome.error !== undefined || fromResult.failed || (process.exitCode !== undefined && process.exitCode !== 0);
  const errorCode = outcome.error instanceof DomainError ? outcome.error.code : fromResult.code;
  try {
    if (c.rowId) {
      await q.query(`UPDATE platform.audit_log SET outcome = $2, error_code = $3, duration_ms = $4 WHERE id = $1`, [
        c.rowId,
        failed ? 'failed' : 'ok',
        errorCode,
        Date.now() - c.t0,
      ]);
      return;
    }
    c.rowId = await recordAudit(q, {
      at: c.at,
      actor: `cli:${osUser()}`,
      actorName: null,
      method: 'CLI',
      route: c.route,
      path: c.route,
      resourceId: c.args[0] ?? null,
      diff: { args: c.args, options: c.options },
      status: null,
      outcome: failed ? 'failed' : 'ok',
      errorCode,
      durationMs: Date.now() - c.t0,
      requestId: null,
    });
  } catch (e) {
    if ((e as { code?: string }).code === '42P01') return;
    say(`weir: warning: the audit log row of "${c.route}" was not written: ${(e as Error).message}`);
  }
}

/** Records the current command through a connection of its own to `databaseUrl` (commands without a Nest context). */
export async function auditWith(databaseUrl: string, error?: unknown): Promise<void> {
  if (!current) return;
  const client = new Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    await recordCommand(client, { error });
  } catch (e) {
    // a database without the audit log (not migrated yet, or `migrate --revert` just removed it) has none to write
    if ((e as { code?: string }).code === '42P01') return;
    say(`weir: warning: the audit log row of "${current.route}" was not written: ${(e as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
