// The kernel source `npm run vm -- kernel` builds: a directory holding a
// kernel tree, or a tarball of one (Debian's linux-source-*.tar.xz). Its
// identity for the cache is a hash: of the file for a tarball, of every
// path, size and modification time for a directory (reading 1.5 GB of
// source on every call would cost more than it saves).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../bench/args.js';

export interface KernelSource {
  readonly kind: 'dir' | 'tarball';
  readonly path: string;
  /** sha256 identifying the source's content. */
  readonly id: string;
}

const TARBALL = /\.(tar|tar\.xz|txz|tar\.gz|tgz|tar\.bz2)$/;

/** Why `dir` is not a kernel tree the build can use, or null. */
export function notAKernelTree(dir: string): string | null {
  const makefile = join(dir, 'Makefile');
  if (!existsSync(makefile) || !/^VERSION = \d+$/m.test(readFileSync(makefile, 'utf8')))
    return 'no top-level Makefile with a VERSION line';
  if (!existsSync(join(dir, 'arch', 'x86', 'Kconfig'))) return 'no arch/x86';
  if (!existsSync(join(dir, 'io_uring'))) return 'no io_uring/ (older than 5.19)';
  return null;
}

/** The kernel version a tree's Makefile names ("7.2.13"). */
export function treeVersion(dir: string): string {
  const text = readFileSync(join(dir, 'Makefile'), 'utf8');
  const field = (name: string) => new RegExp(`^${name} = (\\S*)$`, 'm').exec(text)?.[1] ?? '';
  return [field('VERSION'), field('PATCHLEVEL'), field('SUBLEVEL')]
    .filter((x) => x !== '')
    .join('.');
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function hashTree(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string, rel: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      if (e.name === '.git') continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path, `${rel}${e.name}/`);
      else {
        const s = statSync(path, { throwIfNoEntry: false });
        if (s !== undefined) hash.update(`${rel}${e.name}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  walk(root, '');
  return hash.digest('hex');
}

/** The source at `path`; UsageError when it is neither a kernel tree nor a tarball. */
export async function resolveSource(path: string): Promise<KernelSource> {
  const s = statSync(path, { throwIfNoEntry: false });
  if (s === undefined) throw new UsageError(`--source ${path}: no such file or directory`);
  if (s.isDirectory()) {
    const why = notAKernelTree(path);
    if (why !== null) throw new UsageError(`--source ${path} is not a kernel tree: ${why}`);
    if (existsSync(join(path, '.config')))
      throw new UsageError(
        `--source ${path} is configured (has a .config): the build is out of tree and needs a clean source (make mrproper)`,
      );
    return { kind: 'dir', path, id: hashTree(path) };
  }
  if (!TARBALL.test(path))
    throw new UsageError(
      `--source ${path}: want a kernel tree directory or a tarball of one (.tar.xz, .tar.gz, .tar.bz2, .tar)`,
    );
  return { kind: 'tarball', path, id: await hashFile(path) };
}

/**
 * Puts a writable copy of the source at `dest` (created): a tarball is
 * unpacked, a directory copied when the series must be applied to it and
 * used in place otherwise. Returns the tree to build from, or why not.
 */
export function prepareTree(
  source: KernelSource,
  dest: string,
  needsCopy: boolean,
): { ok: true; tree: string } | { ok: false; reason: string; usage: boolean } {
  if (source.kind === 'dir' && !needsCopy) return { ok: true, tree: source.path };
  mkdirSync(dest, { recursive: true });
  const run =
    source.kind === 'tarball'
      ? spawnSync('tar', ['-xf', source.path, '-C', dest, '--strip-components=1'], {
          encoding: 'utf8',
        })
      : spawnSync(
          'sh',
          [
            '-c',
            'tar -C "$1" --exclude=.git -cf - . | tar -C "$2" -xf -',
            'copy',
            source.path,
            dest,
          ],
          {
            encoding: 'utf8',
          },
        );
  if (run.status !== 0)
    return {
      ok: false,
      reason: `unpacking ${source.path}: ${(run.stderr ?? '').trim().split('\n')[0] || `exit ${run.status}`}`,
      usage: false,
    };
  const why = notAKernelTree(dest);
  if (why !== null)
    return {
      ok: false,
      reason: `--source ${source.path} does not hold a kernel tree: ${why}`,
      usage: true,
    };
  return { ok: true, tree: dest };
}
