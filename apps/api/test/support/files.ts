import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A throwaway WEIR_DATA_DIR with an inbox/ (the default ingest root). */
export function tempDataDir(): { dir: string; inbox: string; write: (name: string, content: string | Buffer) => string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-ingest-'));
  const inbox = path.join(dir, 'inbox');
  fs.mkdirSync(inbox, { recursive: true });
  return {
    dir,
    inbox,
    write: (name, content) => {
      const p = path.join(inbox, name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
      return name;
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
