import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/** The part of Nx's project graph the registry check reads. */
export interface SimpleProjectGraph {
  nodes: Record<string, { root: string; tags: string[] }>;
  dependencies: Record<string, { source: string; target: string; type: string }[]>;
}

/**
 * Computes the Nx project graph of the workspace at `root` in a child process (Nx fixes its
 * workspace root when loaded, so a fixture workspace needs its own process). No daemon, no cloud.
 */
export function readProjectGraph(root: string): SimpleProjectGraph {
  const script = path.join(__dirname, '..', '..', 'bin', 'project-graph.js');
  const out = execFileSync(process.execPath, [script], {
    cwd: root,
    env: {
      ...process.env,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_WORKSPACE_ROOT_PATH: root,
      NX_VERBOSE_LOGGING: 'false',
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as SimpleProjectGraph;
}
