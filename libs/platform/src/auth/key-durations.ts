import { InvalidExpiryError } from '../errors/platform.errors';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_MS = 100 * 365 * 86_400_000;

/** `90d`, `12h`, `30m`, `45s`, `2w` in milliseconds; `what` names the option in the error. */
export function parseKeyDuration(text: string, what: string): number {
  const m = /^\s*(\d{1,9})\s*([smhdw])\s*$/i.exec(text);
  if (!m)
    throw new InvalidExpiryError(
      `${what} must be a number and a unit (s, m, h, d or w), e.g. 90d (got ${JSON.stringify(text)})`,
    );
  const ms = Number(m[1]) * UNIT_MS[m[2].toLowerCase()];
  if (ms > MAX_MS) throw new InvalidExpiryError(`${what} may be at most 100 years (got ${JSON.stringify(text)})`);
  return ms;
}

/** When a key expires, from `expiresAt` (an ISO 8601 instant) or `expiresIn` (a duration from now); undefined when neither is given. */
export function resolveKeyExpiry(
  opts: { expiresAt?: string | Date | null; expiresIn?: string | null },
  now: Date = new Date(),
): Date | undefined {
  const { expiresAt, expiresIn } = opts;
  if (expiresAt != null && expiresIn != null)
    throw new InvalidExpiryError('give either an expiry date (expiresAt) or a duration (expiresIn), not both');
  let at: Date | undefined;
  if (expiresIn != null) at = new Date(now.getTime() + parseKeyDuration(expiresIn, 'expiresIn'));
  else if (expiresAt != null) {
    at = expiresAt instanceof Date ? expiresAt : new Date(expiresAt);
    if (
      Number.isNaN(at.getTime()) ||
      (typeof expiresAt === 'string' &&
        !/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(expiresAt.trim()))
    )
      throw new InvalidExpiryError(
        `expiresAt must be an ISO 8601 date or instant (got ${JSON.stringify(String(expiresAt))})`,
      );
  }
  if (at && at.getTime() <= now.getTime())
    throw new InvalidExpiryError(`the expiry ${at.toISOString()} is not in the future`);
  return at;
}
