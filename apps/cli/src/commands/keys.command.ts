import { Command, InvalidArgumentError } from 'commander';
import { API_KEY_ROLES, ApiKeyRole, ApiKeysService } from '@weir/platform';
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

export function keysCommands(program: Command): void {
  const keys = program.command('keys').description('API keys');
  keys
    .command('create')
    .description('create an API key; prints the secret (once) on stdout')
    .requiredOption('--role <role>', `one of ${API_KEY_ROLES.join(', ')}`, parseRole)
    .option('--name <name>', 'what or who uses it', 'cli')
    .option('--json', 'print the key (with its secret) as JSON')
    .action(async (opts: { role: ApiKeyRole; name: string; json?: boolean }) => {
      const created = await withKeys((k) => k.create(opts.name, opts.role, 'weir-cli'));
      say(`created ${created.role} key "${created.name}" (id ${created.id}); the secret below is shown once`);
      emit(opts.json, created, () => created.key + '\n');
    });
  keys
    .command('list')
    .description('list API keys (never their secrets)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withKeys((k) => k.list());
      emit(opts.json, list, () =>
        list
          .map(
            (k) => `${k.id}  ${k.role.padEnd(6)}  ${k.keyPrefix}…  ${k.revokedAt ? 'revoked' : 'active '}  ${k.name}\n`,
          )
          .join(''),
      );
    });
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
