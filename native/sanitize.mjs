// Builds the C designs' concurrent stress (iou-stress) twice, under
// AddressSanitizer+UBSan and under ThreadSanitizer, into native/build/sanitize/
// and runs each on a short budget (npm run test:sanitizers). The sources are
// binding.gyp's model_sources, every C file in src/designs/ (binding.gyp's
// design_sources) and src/stress_main.c. Exit 0 when both runs are
// clean (or TSan cannot run on this machine, which is said in one line), 1 on
// any sanitizer report, stress failure or build error, 2 on bad usage or when
// there is no C compiler or sanitizer runtime.
//
//   node native/sanitize.mjs [--ops N] [--threads N] [--seed N]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { machine } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'build', 'sanitize');
const say = (line) => console.error(`iou-dispatch: ${line}`);
// A run longer than this is hung, not slow.
const RUN_TIMEOUT_MS = 5 * 60_000;

let args;
try {
  args = parseArgs({
    options: { ops: { type: 'string' }, threads: { type: 'string' }, seed: { type: 'string' } },
  }).values;
} catch (e) {
  say(
    `${e.message.split('\n')[0]} (usage: node native/sanitize.mjs [--ops N] [--threads N] [--seed N])`,
  );
  process.exit(2);
}
function whole(name, min, max) {
  const text = args[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    say(`--${name} wants a whole number from ${min} to ${max}, not '${text}'`);
    process.exit(2);
  }
  return n;
}
const ops = whole('ops', 1, 100_000_000);
const threads = whole('threads', 1, 64) ?? 4;
const seed = whole('seed', 0, 0xffffffff) ?? 1;

const cc = process.env.CC ?? 'cc';
if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status !== 0) {
  say(`no C compiler ('${cc}'): install gcc (apt-get install build-essential) or set CC`);
  process.exit(2);
}

let sources;
try {
  const gyp = JSON.parse(readFileSync(join(here, 'binding.gyp'), 'utf8'));
  sources = gyp.variables.model_sources;
  if (!Array.isArray(sources) || sources.length === 0) throw new Error('no model_sources list');
} catch (e) {
  say(`cannot read the model sources from native/binding.gyp: ${e.message.split('\n')[0]}`);
  process.exit(1);
}
const designSources = readdirSync(join(here, 'src', 'designs'))
  .filter((f) => f.endsWith('.c'))
  .sort()
  .map((f) => `src/designs/${f}`);
sources = ['src/stress_main.c', ...sources, ...designSources];

const COMMON = [
  '-std=gnu11',
  '-O1',
  '-g',
  '-fno-omit-frame-pointer',
  '-Wall',
  '-Wextra',
  '-Wno-unused-parameter',
  '-Wno-missing-field-initializers',
];
const REPORT =
  /ERROR: AddressSanitizer|ERROR: LeakSanitizer|WARNING: ThreadSanitizer|runtime error:|SUMMARY: \w+Sanitizer/;
const TSAN_MAPPING = /unexpected memory mapping/;

const SANITIZERS = [
  {
    name: 'asan',
    label: 'ASan+UBSan',
    flags: ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'],
    runtime: 'libasan8 and libubsan1',
    ops: ops ?? 20_000,
    env: {
      ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    },
  },
  {
    name: 'tsan',
    label: 'TSan',
    flags: ['-fsanitize=thread'],
    runtime: 'libtsan2',
    ops: ops ?? 10_000,
    // halt_on_error makes the first race exit with TSan's exitcode (66).
    env: { TSAN_OPTIONS: 'halt_on_error=1:second_deadlock_stack=1' },
  },
];

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Compiles one binary; resolves to { ok, ms, output }. */
function build(s) {
  const bin = join(outDir, `iou-stress-${s.name}`);
  const argv = [...COMMON, ...s.flags, '-o', bin, ...sources, '-lpthread'];
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cc, argv, { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', (e) => resolve({ ok: false, ms: 0, output: e.message, bin }));
    child.on('close', (code) =>
      resolve({ ok: code === 0, ms: performance.now() - start, output, bin }),
    );
  });
}

/** Runs one binary (optionally under setarch -R); returns the result and elapsed ms. */
function run(s, bin, noAslr) {
  const argv = ['--threads', String(threads), '--ops', String(s.ops), '--seed', String(seed)];
  const [cmd, cmdArgs] = noAslr ? ['setarch', [machine(), '-R', bin, ...argv]] : [bin, argv];
  const start = performance.now();
  const r = spawnSync(cmd, cmdArgs, {
    encoding: 'utf8',
    env: { ...process.env, ...s.env },
    timeout: RUN_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ...r, ms: performance.now() - start };
}

mkdirSync(outDir, { recursive: true });
// Both builds at once: they are independent and each is one compiler process.
const builds = await Promise.all(SANITIZERS.map(build));
let failed = false;
for (const [i, s] of SANITIZERS.entries()) {
  const b = builds[i];
  if (!b.ok) {
    process.stderr.write(b.output);
    if (/cannot find -l(asan|ubsan|tsan)|lib(asan|ubsan|tsan)[^\s]*: No such file/.test(b.output)) {
      say(`${s.label}: the compiler has no sanitizer runtime: install ${s.runtime} (or gcc)`);
      process.exit(2);
    }
    say(`${s.label}: build failed (see the compiler output above)`);
    failed = true;
    continue;
  }
  if (b.output.trim() !== '') process.stderr.write(b.output);

  let r = run(s, b.bin, false);
  let note = '';
  if (
    s.name === 'tsan' &&
    r.status !== 0 &&
    TSAN_MAPPING.test(r.stderr) &&
    !REPORT.test(r.stderr)
  ) {
    say('TSan: unexpected memory mapping (high ASLR entropy); retrying under setarch -R');
    r = run(s, b.bin, true);
    note = ' under setarch -R';
    const why =
      r.error?.code === 'ENOENT'
        ? 'no setarch (util-linux)'
        : TSAN_MAPPING.test(r.stderr)
          ? 'unexpected memory mapping even with ASLR off'
          : /setarch: /.test(r.stderr)
            ? r.stderr.trim().split('\n')[0]
            : null;
    if (why !== null && !REPORT.test(r.stderr)) {
      say(
        `TSan could not run here (${why}; try sysctl vm.mmap_rnd_bits=28 or a newer compiler): skipped`,
      );
      continue;
    }
  }
  process.stdout.write(r.stdout ?? '');
  const designs = (r.stdout ?? '')
    .split('\n')
    .filter(
      (l) => l.trim() !== '' && !l.startsWith('self-deadlock ') && !l.startsWith('exit-paths '),
    ).length;
  const reported = REPORT.test(r.stderr ?? '');
  if (r.error !== undefined || r.status !== 0 || reported) {
    process.stderr.write(r.stderr ?? '');
    const why =
      r.error?.code === 'ETIMEDOUT'
        ? `timed out after ${seconds(RUN_TIMEOUT_MS)}`
        : r.error !== undefined
          ? r.error.message
          : reported
            ? `sanitizer report (${r.signal ?? `exit ${r.status}`})`
            : r.signal !== null
              ? `killed by ${r.signal}`
              : `exit ${r.status} (a stress FAIL line above, or a crash)`;
    say(`${s.label}: FAILED: ${why} after ${seconds(r.ms)}${note}`);
    failed = true;
    continue;
  }
  if (r.stderr.trim() !== '') process.stderr.write(r.stderr);
  say(
    `${s.label}: clean: ${designs} designs × ${threads} threads × ${s.ops} ops, exit's oops and hang, and the self-deadlock, in ${seconds(r.ms)}${note} (build ${seconds(b.ms)})`,
  );
}
process.exit(failed ? 1 : 0);
