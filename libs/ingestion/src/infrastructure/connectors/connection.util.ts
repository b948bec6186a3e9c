import type { ClientConfig } from 'pg';
import { redactUrl } from '@weir/platform';
import { ConnectionSpec, resolveSecret } from '../../domain/connector';
import { SourceUnreachableError } from '../../ingestion.errors';

/** A connection's secrets read from the environment at connect time (never stored, never shown). */
export interface ResolvedConnection {
  url?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  ssl: ConnectionSpec['ssl'];
  /** The secret values, to take out of any driver message. */
  secrets: string[];
  /** host:port/database, for messages (never the URL, which may hold a password). */
  shown: string;
}

export function resolveConnection(c: ConnectionSpec, defaultPort: number): ResolvedConnection {
  let url: string | undefined;
  let password: string | undefined;
  try {
    url = resolveSecret(c.url);
    password = resolveSecret(c.password);
  } catch (e) {
    throw new SourceUnreachableError(`Cannot connect to the source database: ${(e as Error).message}`);
  }
  const secrets = [url, password].filter((s): s is string => !!s);
  let shown = `${c.host ?? '?'}:${c.port ?? defaultPort}/${c.database ?? ''}`;
  if (url) {
    try {
      const u = new URL(url);
      shown = `${u.hostname}:${u.port || defaultPort}${u.pathname}`;
      if (u.password) secrets.push(decodeURIComponent(u.password), u.password);
    } catch {
      shown = '<the url of the source>';
    }
  }
  return { url, host: c.host, port: c.port, database: c.database, user: c.user, password, ssl: c.ssl, secrets, shown };
}

/** A node-postgres client configuration for a resolved connection (TLS as the spec says). */
export function pgClientConfig(conn: ResolvedConnection, applicationName: string, timeoutMs: number): ClientConfig {
  return {
    connectionString: conn.url,
    host: conn.url ? undefined : conn.host,
    port: conn.url ? undefined : (conn.port ?? 5432),
    database: conn.url ? undefined : conn.database,
    user: conn.url ? undefined : conn.user,
    password: conn.url ? undefined : conn.password,
    ssl:
      conn.ssl === 'require'
        ? { rejectUnauthorized: false }
        : conn.ssl === 'verify-full'
          ? { rejectUnauthorized: true }
          : undefined,
    application_name: applicationName,
    connectionTimeoutMillis: timeoutMs,
  };
}

/** A driver's message without any secret of the connection (nor a URL's password). */
export function scrub(message: string, conn: ResolvedConnection): string {
  let m = message.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, (u) => redactUrl(u));
  for (const s of conn.secrets) if (s.length >= 1) m = m.split(s).join('***');
  return m.slice(0, 2000);
}
