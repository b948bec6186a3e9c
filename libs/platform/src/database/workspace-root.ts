import * as fs from 'node:fs';
import * as path from 'node:path';

let cached: string | undefined;

/** The repository root (the folder holding nx.json), found from this file's location. */
export function workspaceRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'nx.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`weir: cannot find the workspace root (nx.json) above ${__dirname}`);
    dir = up;
  }
  cached = dir;
  return dir;
}
