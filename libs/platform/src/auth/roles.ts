/** API-key roles, from least to most privileged. */
export const API_KEY_ROLES = ['viewer', 'editor', 'admin'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export function roleRank(role: ApiKeyRole): number {
  return API_KEY_ROLES.indexOf(role);
}

/** Who made a request: the API key's id (`env:admin` for `WEIR_ADMIN_API_KEY`), name and role. */
export interface Principal {
  keyId: string;
  name: string;
  role: ApiKeyRole;
}

/**
 * Whether `principal` sees the values of PII columns (contract columns with `pii: true`) in clear:
 * admin keys do; editor and viewer keys, and a request without a key, get them masked in previews,
 * dead letters and exports. The one rule every slice asks.
 */
export function seesPii(principal: Pick<Principal, 'role'> | undefined): boolean {
  return principal?.role === 'admin';
}

/** HTTP methods a viewer may use. */
export const READ_ONLY_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why `principal` may not call `method` on a route that needs `required` (if any), or undefined
 * when it may: the rule of the global guard, for every handler that checks a key itself.
 */
export function accessDenied(principal: Principal, method: string, required?: ApiKeyRole): string | undefined {
  if (required && roleRank(principal.role) < roleRank(required))
    return `This operation needs the ${required} role; the key "${principal.name}" has ${principal.role}`;
  if (principal.role === 'viewer' && !READ_ONLY_METHODS.has(method.toUpperCase()))
    return `Viewer keys may only read (GET); ${method} needs the editor role`;
  return undefined;
}
