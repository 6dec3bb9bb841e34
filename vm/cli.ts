// `npm run vm -- VERB`: kernels for the suite built from source (with a
// posted series applied), libbpf from a kernel tree, and one command run
// inside a QEMU guest booted on such a kernel. Usage errors: one line,
// exit 2; failures (a build that breaks, a guest that never boots, a
// kernel that oopses): one line, exit 1; otherwise `run` exits with the
// command's status.

import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseWhole, runCli, UsageError } from '../bench/args.js';
import { cacheDir, cacheRoot } from './cache.js';
import { missingHostTools, type Verb } from './host-tools.js';
import {
  BASE_FRAGMENT,
  buildKernel,
  DEBUG_FRAGMENT,
  entryImage,
  type KernelInfo,
} from './kernel.js';
import { buildLibbpf } from './libbpf.js';
import { type Accel, type RunOutcome, runInGuest } from './run.js';
import { readSeries } from './series.js';
import { prepareTree, resolveSource } from './source.js';

const USAGE = `usage: npm run vm -- VERB [options]

  kernel --source SRC [--series SERIES] [--debug] [--jobs N]
      Builds a bzImage (and libbpf) from SRC, a kernel tree or a tarball of
      one (Debian's /usr/src/linux-source-*.tar.xz), with SERIES applied
      first: an mbox as b4 am writes it, a patch or mail file, or a
      directory of them applied in name order. Configured from tinyconfig
      plus vm/kernel.config (and vm/kernel-debug.config with --debug: KASAN,
      lockdep, a 20 s hung-task timeout). Cached by the hash of source,
      series and config; prints the entry directory on stdout.

  libbpf --source SRC
      Builds only libbpf from SRC's tools/lib/bpf (about a minute), for a
      distribution whose libbpf is older than 1.4; prints the directory to
      pass as npm run bench -- --libbpf DIR.

  run --kernel KERNEL [--cpus N] [--memory MIB] [--accel auto|kvm|tcg]
      [--timeout S] [--boot-timeout S] [--out DIR] [--collect LIST] -- CMD...
      Boots KERNEL (an entry directory from 'kernel', or a bzImage) with this
      machine's root read-only and the project writable on tmpfs, runs CMD in
      the project, copies LIST back into DIR and exits with CMD's status.
      KVM is tried first when /dev/kvm is usable, then TCG (functional only:
      reports say timings are not valid). Defaults: 2 CPUs, 2048 MiB, auto,
      1800 s, 180 s to boot under TCG (tried twice), --out vm-results,
      --collect results.

  Cache: $IOU_CACHE, else $XDG_CACHE_HOME/iou-dispatch, else
  ~/.cache/iou-dispatch.`;

const VERBS: readonly Verb[] = ['kernel', 'libbpf', 'run'];

function needTools(verb: Verb): void {
  const missing = missingHostTools(verb);
  if (missing !== null) throw new Failure(missing);
}

/** A failure that is not the user's input: one line, exit 1. */
class Failure extends Error {}

async function kernelVerb(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      source: { type: 'string' },
      series: { type: 'string' },
      debug: { type: 'boolean' },
      jobs: { type: 'string' },
    },
    strict: true,
  });
  if (values.source === undefined) throw new UsageError('kernel: --source is required');
  const jobs = parseWhole('--jobs', values.jobs ?? String(availableParallelism()), 256);
  const series = values.series === undefined ? [] : readSeries(values.series);
  const source = await resolveSource(values.source);
  needTools('kernel');
  const say = (line: string) => console.error(`vm kernel: ${line}`);
  try {
    const entry = await buildKernel(
      {
        source,
        series,
        fragments: values.debug === true ? [BASE_FRAGMENT, DEBUG_FRAGMENT] : [BASE_FRAGMENT],
        jobs,
        cacheRoot: cacheRoot(),
      },
      say,
    );
    console.log(entry);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new Failure((e as Error).message);
  }
}

async function libbpfVerb(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { source: { type: 'string' } },
    strict: true,
  });
  if (values.source === undefined) throw new UsageError('libbpf: --source is required');
  const source = await resolveSource(values.source);
  needTools('libbpf');
  const root = cacheRoot();
  const dest = join(cacheDir(root, 'libbpf'), source.id.slice(0, 16));
  if (existsSync(join(dest, 'lib', 'libbpf.a'))) {
    console.log(dest);
    return 0;
  }
  const work = mkdtempSync(join(cacheDir(root, 'work'), 'libbpf-'));
  try {
    if (source.kind === 'tarball') console.error(`vm libbpf: unpacking ${source.path}`);
    const tree = prepareTree(source, join(work, 'src'), false);
    if (!tree.ok) throw tree.usage ? new UsageError(tree.reason) : new Failure(tree.reason);
    console.error('vm libbpf: building tools/lib/bpf');
    const staged = join(work, 'libbpf');
    const error = buildLibbpf(tree.tree, staged, work, availableParallelism());
    if (error !== null) throw new Failure(error);
    rmSync(dest, { recursive: true, force: true });
    renameSync(staged, dest);
    console.log(dest);
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The bzImage and libbpf of --kernel: an entry directory or an image file. */
function kernelOf(path: string): { image: string; libbpf: string | null; info: KernelInfo | null } {
  const s = statSync(path, { throwIfNoEntry: false });
  if (s === undefined) throw new UsageError(`--kernel ${path}: no such file or directory`);
  const dir = s.isDirectory() ? path : dirname(path);
  const image = s.isDirectory() ? entryImage(path) : path;
  if (image === null)
    throw new UsageError(`--kernel ${path}: no bzImage and info.json in that directory`);
  const libbpf = join(dir, 'libbpf');
  const infoPath = join(dir, 'info.json');
  return {
    image: resolve(image),
    libbpf: existsSync(join(libbpf, 'lib', 'libbpf.a')) ? resolve(libbpf) : null,
    info: existsSync(infoPath) ? (JSON.parse(readFileSync(infoPath, 'utf8')) as KernelInfo) : null,
  };
}

function describe(o: RunOutcome): string {
  const problem =
    'problem' in o && o.problem !== null
      ? `the kernel reported trouble (${o.problem.kind}, ${o.problem.phase === 'boot' ? 'while booting, before the command started' : 'while the command ran'}):\n  ${o.problem.lines.join('\n  ')}`
      : null;
  switch (o.kind) {
    case 'no-boot':
      return `the guest never came up under ${o.accel.toUpperCase()}: ${o.reason}`;
    case 'timeout':
      return problem ?? `the command did not end within the timeout under ${o.accel.toUpperCase()}`;
    case 'crashed':
      return problem ?? o.reason;
    case 'exited':
      return problem ?? `the command exited ${o.status}`;
  }
}

async function runVerb(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  const own = split < 0 ? argv : argv.slice(0, split);
  const command = split < 0 ? [] : argv.slice(split + 1);
  const { values } = parseArgs({
    args: own,
    options: {
      kernel: { type: 'string' },
      cpus: { type: 'string', default: '2' },
      memory: { type: 'string', default: '2048' },
      accel: { type: 'string', default: 'auto' },
      timeout: { type: 'string', default: '1800' },
      'boot-timeout': { type: 'string', default: '180' },
      out: { type: 'string', default: 'vm-results' },
      collect: { type: 'string', default: 'results' },
    },
    strict: true,
  });
  if (values.kernel === undefined) throw new UsageError('run: --kernel is required');
  if (command.length === 0) throw new UsageError('run: give the command after --');
  const accel = values.accel;
  if (accel !== 'auto' && accel !== 'kvm' && accel !== 'tcg')
    throw new UsageError(`--accel: '${accel}' is not auto, kvm or tcg`);
  const collect = values.collect
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const c of collect)
    if (c.startsWith('/') || c.split('/').includes('..') || basename(c) === '.vm')
      throw new UsageError(`--collect: '${c}' is not a path inside the project`);
  const kernel = kernelOf(values.kernel);
  needTools('run');
  const say = (line: string) => console.error(`vm run: ${line}`);
  if (kernel.info !== null)
    say(
      `kernel ${kernel.info.version}${kernel.info.series.length > 0 ? ` with ${kernel.info.series.length} patches` : ''}`,
    );
  const out = resolve(values.out);
  const outcome = await runInGuest(
    {
      image: kernel.image,
      libbpf: kernel.libbpf,
      cpus: parseWhole('--cpus', values.cpus, 64),
      memoryMiB: parseWhole('--memory', values.memory, 1 << 20),
      accel: accel as Accel | 'auto',
      timeoutS: parseWhole('--timeout', values.timeout, 86_400),
      bootTimeoutS: parseWhole('--boot-timeout', values['boot-timeout'], 3600),
      out,
      collect,
      command,
    },
    say,
    (line) => console.log(line),
  );
  const log = join(out, outcome.accel === 'kvm' ? 'console-kvm.log' : 'console.log');
  if (outcome.kind === 'exited' && outcome.problem === null) {
    say(
      `command exited ${outcome.status} under ${outcome.accel.toUpperCase()}; console log: ${log}`,
    );
    return outcome.status;
  }
  throw new Failure(`${describe(outcome)} (console log: ${log})`);
}

async function main(argv: readonly string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === '-h' || verb === '--help' || verb === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (verb === undefined) throw new UsageError(`give a verb: ${VERBS.join(', ')} (see --help)`);
  if (!VERBS.includes(verb as Verb))
    throw new UsageError(`unknown verb '${verb}' (known: ${VERBS.join(', ')}; see --help)`);
  // Ctrl-C and SIGTERM reach make, tar and QEMU too; with a listener here the
  // verb still cleans up (no work directory, no guest left) and then says so.
  let stopped: NodeJS.Signals | null = null;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      stopped = signal;
    });
  let code: number;
  try {
    if (verb === 'kernel') code = await kernelVerb(rest);
    else if (verb === 'libbpf') code = await libbpfVerb(rest);
    else code = await runVerb(rest);
  } catch (e) {
    // A bug is a stack trace, unless a signal is why the verb gave up.
    if (stopped === null && !(e instanceof Failure)) throw e;
    if (stopped === null) console.error(`vm ${verb}: ${(e as Error).message}`);
    code = 1;
  }
  if (stopped !== null) {
    console.error(`vm ${verb}: interrupted by ${stopped}`);
    return stopped === 'SIGINT' ? 130 : 143;
  }
  return code;
}

runCli('vm', () => main(process.argv.slice(2)));
