import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

/** One pipeline file of a project: its definition, or why it could not be read. */
export interface PipelineFile {
  /** Relative to the project's folder: `pipelines/daily.yml`. */
  file: string;
  raw?: unknown;
  error?: string;
}

/** A folder's pipelines: `<root>/pipelines/*.yml|yaml`, in name order (none when there is no such folder). */
export function readPipelineFiles(root: string): PipelineFile[] {
  const dir = path.join(root, 'pipelines');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      const file = `pipelines/${f}`;
      try {
        return { file, raw: parse(fs.readFileSync(path.join(dir, f), 'utf8')) as unknown };
      } catch (e) {
        return { file, error: `not valid YAML: ${(e as Error).message.split('\n')[0]}` };
      }
    });
}
