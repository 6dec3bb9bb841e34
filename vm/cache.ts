// Where `npm run vm` keeps what it built, outside the clone so a fresh
// clone (and CI) reuses it: $IOU_CACHE, else $XDG_CACHE_HOME/iou-dispatch,
// else ~/.cache/iou-dispatch. An entry is built in a work directory and
// renamed into place whole, so a failed or interrupted build leaves no
// entry behind, only its log under failed/.

import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The cache's root directory (not created). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IOU_CACHE !== undefined && env.IOU_CACHE !== '') return env.IOU_CACHE;
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'iou-dispatch');
}

/** A subdirectory of the cache, created. */
export function cacheDir(root: string, ...parts: string[]): string {
  const dir = join(root, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
