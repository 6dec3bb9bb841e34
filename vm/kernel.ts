// `npm run vm -- kernel`: a bzImage (and libbpf) from a kernel source,
// optionally with a posted series applied first, configured from
// `make tinyconfig` plus the fragments kept beside this file. Cached under
// the hash of source, series and fragments (vm/cache.ts): a second call
// with the same inputs prints the cached entry at once.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../bench/args.js';
import { cacheDir } from './cache.js';
import { buildLibbpf } from './libbpf.js';
import { applySeries, type Patch } from './series.js';
import { type KernelSource, prepareTree, treeVersion } from './source.js';

const VM_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'vm');
export const BASE_FRAGMENT = join(VM_DIR, 'kernel.config');
export const DEBUG_FRAGMENT = join(VM_DIR, 'kernel-debug.config');
/** Bumped when the build steps change what an entry holds. */
const BUILD_RECIPE = 1;

export interface KernelRequest {
  readonly source: KernelSource;
  readonly series: readonly Patch[];
  /** Config fragments merged onto tinyconfig, in order. */
  readonly fragments: readonly string[];
  readonly jobs: number;
  readonly cacheRoot: string;
}

/** What an entry's info.json says of its build. */
export interface KernelInfo {
  readonly version: string;
  readonly source: string;
  readonly series: readonly { name: string; subject: string }[];
  readonly fragments: readonly string[];
  readonly builtAt: string;
  readonly buildSeconds: number;
}

/** The cache key of a request: source, series text, fragment text and the recipe. */
export function kernelKey(r: Pick<KernelRequest, 'source' | 'series' | 'fragments'>): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ recipe: BUILD_RECIPE, source: r.source.id }));
  for (const p of r.series) hash.update(`\0patch\0${p.text}`);
  for (const f of r.fragments) hash.update(`\0fragment\0${readFileSync(f, 'utf8')}`);
  return hash.digest('hex').slice(0, 16);
}

/** An entry directory's bzImage, when the entry is complete. */
export function entryImage(entry: string): string | null {
  const image = join(entry, 'bzImage');
  return existsSync(image) && existsSync(join(entry, 'info.json')) ? image : null;
}

interface Option {
  readonly name: string;
  readonly value: string;
  readonly required: boolean;
}

/**
 * The CONFIG_ lines of fragments, merged as merge_config.sh merges them (a
 * later fragment's value wins); those after a "# optional" line are not
 * required.
 */
export function fragmentOptions(texts: readonly string[]): Option[] {
  const byName = new Map<string, Option>();
  for (const text of texts) {
    let required = true;
    for (const line of text.split('\n')) {
      if (/^# optional\b/.test(line)) required = false;
      const m = /^(CONFIG_\w+)=(.*)$/.exec(line.trim());
      if (m !== null) {
        const name = m[1] ?? '';
        byName.delete(name);
        byName.set(name, { name, value: m[2] ?? '', required });
      }
    }
  }
  return [...byName.values()];
}

/** Why the final .config lacks a required option, with what usually causes it; null when all are there. */
export function missingOptions(config: string, options: readonly Option[]): string | null {
  const set = new Set(config.split('\n'));
  const lost = options.filter((o) => o.required && !set.has(`${o.name}=${o.value}`));
  if (lost.length === 0) return null;
  const hint = lost.some((o) => o.name === 'CONFIG_DEBUG_INFO_BTF')
    ? ' (DEBUG_INFO_BTF needs pahole 1.16 or newer: Debian package dwarves)'
    : ' (the tree lacks them or their dependencies)';
  return `${lost.map((o) => `${o.name}=${o.value}`).join(', ')} did not survive olddefconfig${hint}`;
}

class BuildFailed extends Error {}

/** Runs `cmd` with output appended to `log`, calling `onLine` per line; resolves when it exits 0. */
function runLogged(
  cmd: string,
  args: readonly string[],
  cwd: string,
  log: string,
  onLine: (line: string) => void = () => {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(log, { flags: 'a' });
    out.write(`$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail: string[] = [];
    let partial = '';
    const take = (chunk: Buffer) => {
      out.write(chunk);
      const lines = (partial + chunk.toString('latin1')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l);
      tail = [...tail, ...lines].slice(-20);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const stop = () => child.kill('SIGTERM');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    child.on('error', (e) => {
      out.end();
      reject(new BuildFailed(`${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      out.end(() => {
        if (code === 0) return resolve();
        const error = tail.filter((l) => /error|Error|\*\*\*/.test(l)).at(-1) ?? tail.at(-1) ?? '';
        reject(
          new BuildFailed(
            signal !== null
              ? `${cmd} ${args.at(-1)} was stopped (${signal})`
              : `${cmd} ${args.at(-1)} failed (exit ${code}): ${error.trim()}`,
          ),
        );
      });
    });
  });
}

function elapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * Builds (or finds in the cache) the kernel `r` asks for; `say` gets one
 * progress line at a time. Resolves to the entry directory; rejects with
 * an Error whose message is the one-line reason (the log path included).
 */
export async function buildKernel(r: KernelRequest, say: (line: string) => void): Promise<string> {
  const key = kernelKey(r);
  const entry = join(cacheDir(r.cacheRoot, 'kernels'), key);
  if (entryImage(entry) !== null) {
    say(`cached: ${entry}`);
    return entry;
  }
  const work = mkdtempSync(join(cacheDir(r.cacheRoot, 'work'), `${key}-`));
  const log = join(work, 'build.log');
  const failedLog = join(cacheDir(r.cacheRoot, 'failed'), `${key}.log`);
  const started = Date.now();
  try {
    if (r.source.kind === 'tarball') say(`unpacking ${r.source.path}`);
    const tree = prepareTree(r.source, join(work, 'src'), r.series.length > 0);
    if (!tree.ok) throw tree.usage ? new UsageError(tree.reason) : new BuildFailed(tree.reason);
    if (r.series.length > 0) {
      const applied = applySeries(r.series, tree.tree, (p, i) =>
        say(`applying ${i + 1}/${r.series.length}: ${p.subject}`),
      );
      if (!applied.ok) throw new BuildFailed(applied.reason);
    }
    const obj = join(work, 'obj');
    mkdirSync(obj, { recursive: true });
    say(
      `configuring ${treeVersion(tree.tree)} (tinyconfig + ${r.fragments.length} fragment(s)); log: ${log}`,
    );
    await runLogged('make', [`O=${obj}`, 'tinyconfig'], tree.tree, log);
    await runLogged(
      join(tree.tree, 'scripts', 'kconfig', 'merge_config.sh'),
      ['-m', '-O', obj, join(obj, '.config'), ...r.fragments],
      tree.tree,
      log,
    );
    await runLogged('make', [`O=${obj}`, 'olddefconfig'], tree.tree, log);
    const config = readFileSync(join(obj, '.config'), 'utf8');
    const lost = missingOptions(
      config,
      fragmentOptions(r.fragments.map((f) => readFileSync(f, 'utf8'))),
    );
    if (lost !== null) throw new BuildFailed(lost);
    say(`building bzImage with ${r.jobs} jobs (20-30 minutes on 2 cores)`);
    let compiled = 0;
    const beat = setInterval(
      () => say(`building: ${compiled} files compiled, ${elapsed(Date.now() - started)}`),
      60_000,
    );
    try {
      await runLogged('make', [`O=${obj}`, `-j${r.jobs}`, 'bzImage'], tree.tree, log, (line) => {
        if (/^\s+CC\s/.test(line)) compiled += 1;
      });
    } finally {
      clearInterval(beat);
    }
    const stage = join(work, 'entry');
    mkdirSync(stage);
    say('building libbpf from tools/lib/bpf');
    const libbpf = buildLibbpf(tree.tree, join(stage, 'libbpf'), work, r.jobs);
    if (libbpf !== null) throw new BuildFailed(libbpf);
    const release = spawnSync('make', ['-s', `O=${obj}`, 'kernelrelease'], {
      cwd: tree.tree,
      encoding: 'utf8',
    });
    copyFileSync(join(obj, 'arch', 'x86', 'boot', 'bzImage'), join(stage, 'bzImage'));
    copyFileSync(join(obj, '.config'), join(stage, 'config'));
    copyFileSync(log, join(stage, 'build.log'));
    const info: KernelInfo = {
      version: release.status === 0 ? release.stdout.trim() : treeVersion(tree.tree),
      source: r.source.path,
      series: r.series.map((p) => ({ name: p.name, subject: p.subject })),
      fragments: [...r.fragments],
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 1000),
    };
    writeFileSync(join(stage, 'info.json'), `${JSON.stringify(info, null, 2)}\n`);
    rmSync(entry, { recursive: true, force: true });
    renameSync(stage, entry);
    say(`built ${info.version} in ${elapsed(Date.now() - started)}: ${entry}`);
    return entry;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (existsSync(log)) copyFileSync(log, failedLog);
    const where = existsSync(failedLog) ? ` (log: ${failedLog})` : '';
    throw new Error(`${(e as Error).message}${where}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
