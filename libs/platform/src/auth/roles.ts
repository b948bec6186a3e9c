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

/** HTTP methods a viewer may use. */
export const READ_ONLY_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
