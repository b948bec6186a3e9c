import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

const FIXTURES = path.join(__dirname, 'fixtures');
const REPO = path.resolve(__dirname, '..', '..');

/**
 * Copies `fixtures/valid`, then the overlay `fixtures/<overlay>` on top, into `tmp/` of the repo
 * (so `typeorm` and friends resolve from the repo's node_modules). Returns the workspace root.
 */
export function fixtureWorkspace(overlay?: string): { root: string; remove: () => void } {
  const root = path.join(REPO, 'tmp', 'registry-fixtures', `${overlay ?? 'valid'}-${randomBytes(3).toString('hex')}`);
  fs.mkdirSync(root, { recursive: true });
  fs.cpSync(path.join(FIXTURES, 'valid'), root, { recursive: true });
  if (overlay) fs.cpSync(path.join(FIXTURES, overlay), root, { recursive: true });
  return { root, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}
