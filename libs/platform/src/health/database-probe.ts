import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';

/**
 * The `/health` database check on a connection of its own: a probe never waits behind the
 * request pool (ten connections that a burst of requests can hold for seconds), so `/health`
 * says whether PostgreSQL answers, not how busy the pool is. Concurrent probes share one
 * `SELECT 1` in flight; a probe that times out or fails drops the connection, and the next one
 * connects again.
 */
@Injectable()
export class DatabaseProbe implements OnApplicationShutdown {
  private client?: Promise<Client>;
  private inflight?: Promise<void>;

  constructor(@Inject('WEIR_DATABASE_URL') private readonly url: string) {}

  /** Resolves when PostgreSQL answered `SELECT 1` within `timeoutMs`; rejects with the reason otherwise. */
  ping(timeoutMs: number): Promise<void> {
    this.inflight ??= this.once(timeoutMs).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async once(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.connection().then((c) => c.query('SELECT 1')), timeout]);
    } catch (e) {
      void this.drop();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  private connection(): Promise<Client> {
    this.client ??= (async () => {
      const c = new Client({
        connectionString: this.url,
        application_name: 'weir health',
        connectionTimeoutMillis: 2000,
      });
      c.on('error', () => void this.drop());
      await c.connect();
      return c;
    })();
    return this.client;
  }

  private async drop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.then((x) => x.end()).catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drop();
  }
}
