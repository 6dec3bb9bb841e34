// Checking an output directory before any work, so that a bad --out fails
// at once with one line and nothing on disk.

import { mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Why results cannot be written under `dir`, or null. Leaves nothing behind. */
export function checkOutDir(dir: string): string | null {
  let existing = resolve(dir);
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(existing).isDirectory();
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return `--out: ${dir}: no existing parent directory`;
      existing = parent;
      continue;
    }
    if (!isDir) return `--out: ${existing === resolve(dir) ? dir : existing} is not a directory`;
    break;
  }
  try {
    rmdirSync(mkdtempSync(join(existing, '.iou-dispatch-check-')));
  } catch (e) {
    return `--out: cannot write in ${existing} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  return null;
}
