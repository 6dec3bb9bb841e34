// The patched lane's toolchain: checks for clang and libbpf, builds the
// struct_ops object (native/patched/uring_ops.bpf.c) for the detected
// version and the iou-patched runner into native/build/patched/, checks the
// object's kfunc declarations against the kernel's BTF, and runs it. Used
// only when detection found IORING_OP_BPF in the running kernel.
// Why clang + libbpf rather than raw bpf(): a struct_ops map needs its
// value type, member programs and kfunc calls resolved against the
// kernel's BTF, which is what libbpf does; the stand-in lane's tracepoint
// programs are small enough to assemble by hand and need neither.
// libbpf is the system's (/usr/include, -lbpf) unless a directory is given
// (`--libbpf`, or IOU_LIBBPF as `npm run vm -- run` sets it): one with
// include/bpf/*.h and lib/libbpf.a, as `npm run vm -- libbpf` builds it from
// a kernel tree's tools/lib/bpf for distributions whose libbpf is too old.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BtfTypes } from '../lib/btf.js';
import { parseBtf } from '../lib/btf.js';
import { elfSection } from '../lib/elf.js';
import { NATIVE_BUILD_DIR } from './index.js';
import type { PostedVersion } from './patched.js';

const SOURCE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native');
const OUT_DIR = join(NATIVE_BUILD_DIR, '..', 'patched');

const SYSTEM_LIBBPF_VERSION_H = '/usr/include/bpf/libbpf_version.h';
/** struct_ops links (SEC(".struct_ops.link")) need libbpf 1.4 or newer. */
const LIBBPF_MIN: readonly [number, number] = [1, 4];

/** Where libbpf is: null for the system's, else a directory with include/bpf/ and lib/libbpf.a. */
export type LibbpfDir = string | null;

/** libbpf_version.h of the system's libbpf or of the one in `dir`. */
export function libbpfVersionHeader(dir: LibbpfDir): string {
  return dir === null ? SYSTEM_LIBBPF_VERSION_H : join(dir, 'include', 'bpf', 'libbpf_version.h');
}

/** The installed libbpf's version from its header, or null. */
export function libbpfVersion(header = SYSTEM_LIBBPF_VERSION_H): [number, number] | null {
  try {
    const text = readFileSync(header, 'utf8');
    const major = /LIBBPF_MAJOR_VERSION\s+(\d+)/.exec(text)?.[1];
    const minor = /LIBBPF_MINOR_VERSION\s+(\d+)/.exec(text)?.[1];
    return major === undefined || minor === undefined ? null : [Number(major), Number(minor)];
  } catch {
    return null;
  }
}

/** What to install, as one line, when clang, libbpf (the system's or the one in `libbpf`) or a C compiler is missing; null when all are there. */
export function missingTools(libbpf: LibbpfDir = null): string | null {
  const has = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  const missing: string[] = [];
  if (!has('clang', ['--version'])) missing.push('clang');
  if (libbpf !== null) {
    if (!existsSync(libbpfVersionHeader(libbpf)) || !existsSync(join(libbpf, 'lib', 'libbpf.a')))
      return `--libbpf ${libbpf} holds no include/bpf/libbpf_version.h and lib/libbpf.a (build one with npm run vm -- libbpf)`;
  } else if (!existsSync(SYSTEM_LIBBPF_VERSION_H)) missing.push('libbpf headers');
  if (!has(process.env.CC ?? 'cc', ['--version'])) missing.push('a C compiler');
  if (missing.length === 0) return null;
  return `missing ${missing.join(', ')}: install clang and libbpf-dev (Debian/Ubuntu: apt-get install clang libbpf-dev; Fedora: dnf install clang libbpf-devel)`;
}

/** Why the libbpf whose libbpf_version.h is `header` cannot load struct_ops links, as one line; null when it can. */
export function libbpfTooOld(header = SYSTEM_LIBBPF_VERSION_H): string | null {
  const v = libbpfVersion(header);
  const [minMajor, minMinor] = LIBBPF_MIN;
  if (v !== null && (v[0] > minMajor || (v[0] === minMajor && v[1] >= minMinor))) return null;
  return `libbpf ${v === null ? '(unknown version)' : v.join('.')} is too old: struct_ops links need libbpf ${LIBBPF_MIN.join('.')} or newer (Debian 13, Ubuntu 24.04 and Fedora 40 ship it; or build it from a kernel tree with npm run vm -- libbpf and pass --libbpf DIR)`;
}

/** What to install, as one line, when the toolchain is incomplete or its libbpf too old; null when it will do. */
export function missingToolchain(libbpf: LibbpfDir = null): string | null {
  return missingTools(libbpf) ?? libbpfTooOld(libbpfVersionHeader(libbpf));
}

function run(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status === 0) return null;
  const lines = `${r.stderr ?? ''}${r.error?.message ?? ''}`
    .split('\n')
    .filter((l) => l.trim() !== '');
  // A compiler's first line is often "In function 'main':"; the first error line says what broke.
  const first = lines.find((l) => /\berror\b/i.test(l)) ?? lines[0];
  return `${cmd} failed: ${first ?? `exit ${r.status}`}`;
}

/** Builds the object for `version` and the runner against libbpf in `libbpf`; their paths, or the first error line. */
export function buildPatched(
  version: PostedVersion,
  libbpf: LibbpfDir = null,
): { ok: true; object: string; runner: string } | { ok: false; reason: string } {
  mkdirSync(OUT_DIR, { recursive: true });
  const object = join(OUT_DIR, `uring_ops-${version}.bpf.o`);
  const runner = join(OUT_DIR, 'iou-patched');
  const multiarch = spawnSync(process.env.CC ?? 'cc', ['-print-multiarch'], { encoding: 'utf8' });
  const archInclude = multiarch.status === 0 ? [`-I/usr/include/${multiarch.stdout.trim()}`] : [];
  // The given libbpf's headers come first, so bpf_helpers.h matches the library.
  const libbpfInclude = libbpf === null ? [] : [`-I${join(libbpf, 'include')}`];
  const bpf = run('clang', [
    '-O2',
    '-g',
    '-target',
    'bpf',
    ...(version === 'v1' ? [] : ['-DURING_BPF_RING_FD']),
    ...libbpfInclude,
    ...archInclude,
    '-c',
    join(SOURCE_DIR, 'patched', 'uring_ops.bpf.c'),
    '-o',
    object,
  ]);
  if (bpf !== null) return { ok: false, reason: bpf };
  const cc = run(process.env.CC ?? 'cc', [
    '-std=gnu11',
    '-O2',
    ...libbpfInclude,
    join(SOURCE_DIR, 'patched', 'runner.c'),
    join(SOURCE_DIR, 'patched', 'memory.c'),
    join(SOURCE_DIR, 'src', 'ring.c'),
    join(SOURCE_DIR, 'src', 'pool.c'),
    ...(libbpf === null ? ['-lbpf'] : [join(libbpf, 'lib', 'libbpf.a'), '-lelf', '-lz']),
    '-lpthread',
    '-o',
    runner,
  ]);
  if (cc !== null) return { ok: false, reason: cc };
  return { ok: true, object, runner };
}

/**
 * Why libbpf would refuse the object's kfunc calls on this kernel, as one
 * line; null when every extern the object declares exists in `kernel` with
 * a prototype libbpf accepts (the same kinds, pointers followed). Catches
 * what libbpf reports only as "func_proto [N] incompatible with vmlinux".
 */
export function kfuncMismatch(object: Buffer, kernel: BtfTypes): string | null {
  let btf: BtfTypes;
  try {
    const section = elfSection(object, '.BTF');
    if (section === undefined) return 'the BPF object has no .BTF section (built without -g?)';
    btf = parseBtf(section);
  } catch (e) {
    return `the BPF object's BTF is unreadable: ${(e as Error).message}`;
  }
  const show = (f: { ret: string; params: string[] }) => `(${f.params.join(', ')}) -> ${f.ret}`;
  for (const name of btf.externFuncs()) {
    const ours = btf.funcSignature(name);
    const theirs = kernel.funcSignature(name);
    if (theirs === undefined) return `the kernel has no kfunc ${name}, which the programs call`;
    if (ours === undefined) return `the BPF object declares ${name} without a prototype`;
    if (show(ours) !== show(theirs))
      return `kfunc ${name}: the programs declare ${show(ours)}, the kernel has ${show(theirs)}`;
  }
  return null;
}

export interface PatchedCell {
  readonly variant: string;
  readonly batch: number;
  readonly threads: number;
  readonly error: number;
  readonly nsPerReq: number[];
}

/** Where and how the runner registers: the UAPI's version and the setup bit the kernel accepted. */
export interface RunnerTarget {
  readonly runner: string;
  readonly object: string;
  readonly version: PostedVersion;
  readonly setupBit: number;
}

/** Runs iou-patched with `args` after the target's; its stdout, or the line that says why it failed. */
function spawnRunner(
  t: RunnerTarget,
  args: readonly string[],
): { ok: true; stdout: string } | { ok: false; reason: string } {
  const r = spawnSync(
    t.runner,
    ['--version', t.version, '--setup-bit', String(t.setupBit), '--object', t.object, ...args],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status === 0) return { ok: true, stdout: r.stdout };
  // libbpf warns before the runner's own line: the last line says what failed.
  const lines = (r.stderr ?? '').trim().split('\n');
  return {
    ok: false,
    reason: lines.at(-1) || (r.error?.message ?? `exit ${r.status ?? r.signal}`),
  };
}

/** Runs the built runner; its cells, or its one-line error. */
export function runPatched(
  t: RunnerTarget,
  o: {
    batches: readonly number[];
    threads: readonly number[];
    /** Worker i runs on cpus[i % n]; unpinned when empty. */
    cpus: readonly number[];
    rounds: number;
    sampleMs: number;
  },
): { ok: true; cells: PatchedCell[] } | { ok: false; reason: string } {
  const r = spawnRunner(t, [
    '--batches',
    o.batches.join(','),
    '--threads',
    o.threads.join(','),
    ...(o.cpus.length > 0 ? ['--cpus', o.cpus.join(',')] : []),
    '--rounds',
    String(o.rounds),
    '--sample-ms',
    String(o.sampleMs),
  ]);
  if (!r.ok) return r;
  try {
    return { ok: true, cells: (JSON.parse(r.stdout) as { cells: PatchedCell[] }).cells };
  } catch (e) {
    return { ok: false, reason: `iou-patched printed no results: ${(e as Error).message}` };
  }
}

/** The sharing modes `--memory` measures: programs loaded once for every map, or each registration its own. */
export const MEMORY_MODES = ['shared', 'own'] as const;
export type MemoryMode = (typeof MEMORY_MODES)[number];

/** One reading of /proc/meminfo (kB, as it prints them) and the system's task count; null where absent. */
export interface MeminfoReading {
  readonly slabKb: number;
  readonly sUnreclaimKb: number | null;
  readonly vmallocUsedKb: number;
  readonly percpuKb: number | null;
  readonly threads: number | null;
}

/** One (mode, ring count) of `iou-patched --memory`: rings x ops registrations, read before, after and after teardown. */
export interface PatchedMemoryRun {
  readonly mode: MemoryMode;
  readonly rings: number;
  /** Registrations made (all of rings x ops unless `error` says where it stopped). */
  readonly registrations: number;
  /** Registrations whose IORING_OP_BPF request did not complete with res 0. */
  readonly notEffective: number;
  /** Why the mode has no result, one line; null when it has one. */
  readonly error: string | null;
  readonly registerMs: number;
  readonly settled: {
    readonly before: boolean;
    readonly after: boolean;
    readonly teardown: boolean;
  };
  readonly before: MeminfoReading | null;
  readonly after: MeminfoReading | null;
  readonly teardown: MeminfoReading | null;
}

export interface PatchedMemory {
  /** Op ids registered per ring. */
  readonly ops: number;
  readonly runs: readonly PatchedMemoryRun[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function reading(v: unknown, where: string): MeminfoReading | null {
  if (v === null) return null;
  if (!isRecord(v) || !isNum(v.Slab) || !isNum(v.VmallocUsed))
    throw new Error(`${where} has no Slab and VmallocUsed`);
  const opt = (x: unknown) => (isNum(x) ? x : null);
  return {
    slabKb: v.Slab,
    sUnreclaimKb: opt(v.SUnreclaim),
    vmallocUsedKb: v.VmallocUsed,
    percpuKb: opt(v.Percpu),
    threads: opt(v.threads),
  };
}

/** `iou-patched --memory` output, checked; or why it is not that. */
export function parsePatchedMemory(
  text: string,
): { ok: true; memory: PatchedMemory } | { ok: false; reason: string } {
  try {
    const doc: unknown = JSON.parse(text);
    if (!isRecord(doc) || !isNum(doc.ops) || !Array.isArray(doc.memory))
      throw new Error('no "ops" and "memory"');
    const runs = doc.memory.map((r: unknown, i): PatchedMemoryRun => {
      const where = `memory[${i}]`;
      if (!isRecord(r)) throw new Error(`${where} is not an object`);
      const mode = MEMORY_MODES.find((m) => m === r.mode);
      if (mode === undefined)
        throw new Error(`${where}.mode is not one of ${MEMORY_MODES.join(', ')}`);
      if (
        !isNum(r.rings) ||
        !isNum(r.registrations) ||
        !isNum(r.notEffective) ||
        !isNum(r.registerMs)
      )
        throw new Error(`${where} lacks rings, registrations, notEffective or registerMs`);
      if (r.error !== null && typeof r.error !== 'string')
        throw new Error(`${where}.error is neither a string nor null`);
      const s = isRecord(r.settled) ? r.settled : {};
      return {
        mode,
        rings: r.rings,
        registrations: r.registrations,
        notEffective: r.notEffective,
        error: r.error,
        registerMs: r.registerMs,
        settled: {
          before: s.before === true,
          after: s.after === true,
          teardown: s.teardown === true,
        },
        before: reading(r.before ?? null, `${where}.before`),
        after: reading(r.after ?? null, `${where}.after`),
        teardown: reading(r.teardown ?? null, `${where}.teardown`),
      };
    });
    return { ok: true, memory: { ops: doc.ops, runs } };
  } catch (e) {
    return {
      ok: false,
      reason: `iou-patched --memory printed no results: ${(e as Error).message}`,
    };
  }
}

/** Bytes, from two meminfo readings: Slab, VmallocUsed and their sum. */
export interface MemoryParts {
  readonly slab: number;
  readonly vmallocUsed: number;
  readonly total: number;
}

export type MemoryGrowth =
  | {
      readonly ok: true;
      /** after - before, in bytes (meminfo's kB are KiB). */
      readonly total: MemoryParts;
      /** `total` divided by the registrations. */
      readonly perRegistration: MemoryParts;
      /** teardown - before, in bytes: what the registrations left behind; null when not read. */
      readonly residue: MemoryParts | null;
      /** Tasks at teardown - tasks before (the kernel workers that freed the maps), or null. */
      readonly residueThreads: number | null;
    }
  | { readonly ok: false; readonly reason: string };

function parts(from: MeminfoReading, to: MeminfoReading, divisor = 1): MemoryParts {
  const slab = ((to.slabKb - from.slabKb) * 1024) / divisor;
  const vmallocUsed = ((to.vmallocUsedKb - from.vmallocUsedKb) * 1024) / divisor;
  return { slab, vmallocUsed, total: slab + vmallocUsed };
}

/** What one run measured: its growth per registration, or why it measured nothing (an error, or registrations that did not take effect). */
export function memoryGrowth(run: PatchedMemoryRun): MemoryGrowth {
  if (run.error !== null) return { ok: false, reason: run.error };
  if (run.notEffective !== 0)
    return { ok: false, reason: `${run.notEffective} registrations did not take effect` };
  if (run.before === null || run.after === null || run.registrations <= 0)
    return { ok: false, reason: 'no readings before and after registering' };
  const { before, after, teardown } = run;
  return {
    ok: true,
    total: parts(before, after),
    perRegistration: parts(before, after, run.registrations),
    residue: teardown === null ? null : parts(before, teardown),
    residueThreads:
      teardown?.threads == null || before.threads === null
        ? null
        : teardown.threads - before.threads,
  };
}

/** Runs `iou-patched --memory` for `rings` (each ring count in both modes); its runs, or its one-line error. */
export function runPatchedMemory(
  t: RunnerTarget,
  rings: readonly number[],
): { ok: true; memory: PatchedMemory } | { ok: false; reason: string } {
  const r = spawnRunner(t, ['--memory', rings.join(',')]);
  if (!r.ok) return r;
  return parsePatchedMemory(r.stdout);
}
