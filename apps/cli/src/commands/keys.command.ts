import { Command, InvalidArgumentError } from 'commander';
import {
  API_KEY_ROLES,
  ApiKeyRole,
  ApiKeysService,
  ApiKeyView,
  parseKeyDuration,
  resolveKeyExpiry,
} from '@weir/platform';
import { withContext } from '../context';
import { emit, say } from '../output';

function withKeys<T>(fn: (keys: ApiKeysService) => Promise<T>): Promise<T> {
  return withContext({}, (ctx) => fn(ctx.get(ApiKeysService)));
}

function parseRole(v: string): ApiKeyRole {
  if (!(API_KEY_ROLES as readonly string[]).includes(v))
    throw new InvalidArgumentError(`must be one of ${API_KEY_ROLES.join(', ')}`);
  return v as ApiKeyRole;
}

/** Checks a duration option (`90d`, `1h`) as the command line is read, before any database is opened. */
function duration(what: string): (v: string) => string {
  return (v) => {
    try {
      parseKeyDuration(v, what);
      return v;
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

/** `--expires-in` / `--expires-at` as a date, checked before anything is opened. */
function expiryOf(opts: { expiresIn?: string; expiresAt?: string }): Date | undefined {
  try {
    return resolveKeyExpiry({ expiresAt: opts.expiresAt, expiresIn: opts.expiresIn });
  } catch (e) {
    throw new InvalidArgumentError(
      (e as Error).message.replace('expiresAt', '--expires-at').replace('expiresIn', '--expires-in'),
    );
  }
}

function state(k: ApiKeyView, now = Date.now()): string {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && k.expiresAt.getTime() <= now) return 'expired';
  return 'active';
}

const when = (d: Date | null): string => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

export function keysCommands(program: Command): void {
  const keys = program.command('keys').description('API keys');
  keys
    .command('create')
    .description('create an API key; prints the secret (once) on stdout')
    .requiredOption('--role <role>', `one of ${API_KEY_ROLES.join(', ')}`, parseRole)
    .option('--name <name>', 'what or who uses it', 'cli')
    .option('--expires-in <duration>', 'stop working after this long: 90d, 12h, 30m, 2w', duration('--expires-in'))
    .option('--expires-at <instant>', 'stop working at this ISO 8601 date or instant')
    .option('--json', 'print the key (with its secret) as JSON')
    .action(
      async (opts: { role: ApiKeyRole; name: string; expiresIn?: string; expiresAt?: string; json?: boolean }) => {
        const expiresAt = expiryOf(opts);
        const created = await withKeys((k) => k.create(opts.name, opts.role, 'weir-cli', { expiresAt }));
        say(
          `created ${created.role} key "${created.name}" (id ${created.id}${created.expiresAt ? `, expires ${when(created.expiresAt)}` : ''}); the secret below is shown once`,
        );
        emit(opts.json, created, () => created.key + '\n');
      },
    );
  keys
    .command('list')
    .description('list API keys (never their secrets): id, role, prefix, state, expiry, last use, name')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withKeys((k) => k.list());
      emit(opts.json, list, () =>
        list
          .map(
            (k) =>
              `${k.id}  ${k.role.padEnd(6)}  ${k.keyPrefix}…  ${state(k).padEnd(7)}  expires ${when(k.expiresAt).padEnd(20)}  used ${when(k.lastUsedAt).padEnd(20)}  ${k.name}\n`,
          )
          .join(''),
      );
    });
  keys
    .command('rotate')
    .argument('<id|name>', 'key id, or its name when one active key has it')
    .description('give a key (same id, name, role) a new secret; prints it (once) on stdout')
    .option(
      '--grace <duration>',
      'the old secret keeps working this long (1h, 30m, at most 30d); default: it stops now',
      duration('--grace'),
    )
    .option(
      '--expires-in <duration>',
      'a new expiry, from now (90d); default: the key keeps its own',
      duration('--expires-in'),
    )
    .option('--expires-at <instant>', 'a new expiry, an ISO 8601 date or instant')
    .option('--json', 'print the key (with its new secret) as JSON')
    .action(
      async (idOrName: string, opts: { grace?: string; expiresIn?: string; expiresAt?: string; json?: boolean }) => {
        const expiresAt = expiryOf(opts);
        const graceMs = opts.grace ? parseKeyDuration(opts.grace, '--grace') : 0;
        const k = await withKeys((s) => s.rotate(idOrName, { graceMs, expiresAt }));
        say(
          `rotated key "${k.name}" (${k.id}); ${k.previousValidUntil ? `the old secret works until ${when(k.previousValidUntil)}` : 'the old secret no longer works'}; the new one below is shown once`,
        );
        emit(opts.json, k, () => k.key + '\n');
      },
    );
  keys
    .command('revoke')
    .argument('<id>', 'key id')
    .description('revoke an API key')
    .option('--json', 'print the revoked key as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const k = await withKeys((s) => s.revoke(id));
      say(`revoked key "${k.name}" (${k.id})`);
      if (opts.json) emit(true, k, () => '');
    });
}
