// `npm run bench`: runs every available lane, shows progress, writes one
// results.json (atomically, also when interrupted or when a lane fails) and
// prints a summary. Bad input: one line naming the problem, exit 2, nothing
// written. A lane that failed: results and reports written, exit 1.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cancelNativeRuns } from '../native/index.js';
import { renderReports } from '../reports/render.js';
import { terminalSummary } from '../reports/terminal.js';
import {
  parseDesigns,
  parseIntList,
  parsePositive,
  parseWhole,
  runCli,
  UsageError,
} from './args.js';
import { captureEnvironment, finishEnvironment, suiteVersion } from './environment.js';
import type { BenchOptions } from './lane.js';
import { LANES } from './lanes/index.js';
import { DEFAULT_RINGS, MAX_RINGS } from './lanes/registration.js';
import { checkOutDir } from './out-dir.js';
import { progress } from './progress.js';
import { type Json, writeAtomic } from './results.js';
import { BenchRun } from './runner.js';
import { MAX_THREADS, thisMachine } from './topology.js';
import { parseWorkers } from './workers.js';

const USAGE = `usage: npm run bench -- [options]
Measures every IORING_OP_BPF naming design on this machine and writes
results.json.
  --quick            a short run (under a minute on 2 cores)
  --lanes LIST       lanes to run (default: ${LANES.map((l) => l.name).join(',')})
  --designs LIST     designs and variants (default: all)
  --batches LIST     batch sizes of the kernel, patched and native ring
                     lanes (default 1,8,32,128); the bpf-standin lane takes
                     those of 32 and up (32,128 when none), the native pure
                     loops the largest
  --threads LIST     thread counts, one ring each, of the kernel, patched,
                     bpf-standin and native lanes, 1 to ${MAX_THREADS} (default
                     1,2,4,... up to the CPUs this process may run on, that
                     count last: 1,2,4,6 on 6 CPUs); each count times the
                     programs shared by every ring and each ring its own, so
                     the default gives the sharing curve (same/own per N)
  --oversubscribe    allow more threads than CPUs this process may run on
                     (they time-share; results and reports say so)
  --rings LIST       ring counts of the registration lane, 1 to ${MAX_RINGS}
                     (default ${DEFAULT_RINGS.join(',')}); each C world needs about
                     9 KB per ring
  --cpus LIST        pin worker i to cpus[i % n] in the kernel, bpf-standin,
                     native and patched lanes; each must be in this process's
                     affinity mask (default: one worker per physical core
                     first, then SMT siblings, from sysfs)
  --no-pin           leave the workers to the scheduler (also the default
                     when threads outnumber the CPUs)
  --rounds N         interleaved rounds (default 20; --quick 5)
  --duration MS      one timed sample in the kernel, patched and bpf-standin
                     lanes (a fifth of it in the native lane), one task per
                     round in the model lane (default 50; --quick 10)
  --libbpf DIR       libbpf for the patched lane: include/bpf/ and
                     lib/libbpf.a, as npm run vm -- libbpf builds it
                     (default: $IOU_LIBBPF, which npm run vm -- run sets,
                     else the system's)
  --out DIR          directory for results.json (default: results)
  --json             print the results JSON on stdout instead of the summary
  --no-report        write only results.json (no report.html, report.txt,
                     bench.txt)
  -h, --help         this text`;

/** Options from argv; throws UsageError with the one-line problem. */
export function parseBenchArgs(argv: readonly string[]): {
  options: BenchOptions;
  out: string;
  json: boolean;
  report: boolean;
  help: boolean;
  /** Lines to print before the run (one usable CPU). */
  warnings: string[];
} {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean' },
      lanes: { type: 'string' },
      designs: { type: 'string' },
      batches: { type: 'string', default: '1,8,32,128' },
      threads: { type: 'string' },
      rings: { type: 'string', default: DEFAULT_RINGS.join(',') },
      cpus: { type: 'string' },
      oversubscribe: { type: 'boolean' },
      'no-pin': { type: 'boolean' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      libbpf: { type: 'string' },
      out: { type: 'string', default: 'results' },
      json: { type: 'boolean' },
      'no-report': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
    strict: true,
  });
  const quick = values.quick === true;
  const lanes = (values.lanes ?? LANES.map((l) => l.name).join(','))
    .split(',')
    .map((s) => s.trim());
  for (const l of lanes) {
    if (!LANES.some((x) => x.name === l)) {
      throw new UsageError(
        `--lanes: unknown lane '${l}' (known: ${LANES.map((x) => x.name).join(', ')})`,
      );
    }
  }
  const designs = parseDesigns(values.designs);
  const rounds = parseWhole('--rounds', values.rounds ?? (quick ? '5' : '20'), 10_000);
  const workers = parseWorkers(values, thisMachine());
  const options: BenchOptions = {
    quick,
    lanes,
    designs,
    batches: parseIntList('--batches', values.batches, 1, 256),
    threads: workers.threads,
    rings: [...new Set(parseIntList('--rings', values.rings, 1, MAX_RINGS))].sort((a, b) => a - b),
    cpus: workers.cpus,
    oversubscribe: workers.oversubscribe,
    placement: workers.placement,
    rounds,
    durationMs: parsePositive('--duration', values.duration ?? (quick ? '10' : '50'), 60_000),
    libbpf: values.libbpf ?? process.env.IOU_LIBBPF ?? null,
  };
  if (options.libbpf === '') throw new UsageError('--libbpf: an empty path');
  return {
    options,
    out: values.out,
    json: values.json === true,
    report: values['no-report'] !== true,
    help: values.help === true,
    warnings: workers.warnings,
  };
}

function optionsJson(o: BenchOptions, out: string): Json {
  return {
    quick: o.quick,
    lanes: [...o.lanes],
    designs: o.designs.map((d) => d.name),
    batches: [...o.batches],
    threads: [...o.threads],
    rings: [...o.rings],
    cpus: [...o.cpus],
    oversubscribe: o.oversubscribe,
    // Worker i ran on placement.cpus[i % n] (empty: unpinned) in the lanes that pin.
    placement: { mode: o.placement.mode, cpus: [...o.placement.cpus] },
    rounds: o.rounds,
    durationMs: o.durationMs,
    libbpf: o.libbpf,
    out,
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const { options, out, json, report, help, warnings } = parseBenchArgs(argv);
  if (help) {
    console.log(USAGE);
    return 0;
  }
  for (const w of warnings) console.error(w);
  const outProblem = checkOutDir(out);
  if (outProblem !== null) throw new UsageError(outProblem);
  const resultsPath = join(out, 'results.json');
  const command = ['npm', 'run', 'bench', ...(argv.length > 0 ? ['--', ...argv] : [])];
  const run = new BenchRun(
    options,
    optionsJson(options, out),
    command,
    captureEnvironment(),
    suiteVersion(),
  );
  const save = (interrupted: string | null) => {
    // The load and steal after the run are sampled here, so an interrupted run has them too.
    const results = {
      ...run.results(interrupted),
      environment: finishEnvironment(run.environment),
    };
    mkdirSync(out, { recursive: true });
    writeAtomic(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
    return results;
  };
  process.once('SIGINT', () => {
    // Stop the native timing threads first: the process cannot exit while one runs, and
    // a BPF stand-in left attached slows every io_uring user on the machine meanwhile.
    cancelNativeRuns();
    save('interrupted by SIGINT');
    console.error(`\nbench: interrupted; partial results in ${resultsPath}`);
    process.exit(130);
  });
  const lanes = LANES.filter((l) => options.lanes.includes(l.name));
  let bar: ReturnType<typeof progress> | null = null;
  await run.run(lanes, {
    onLaneStart: (lane) => {
      bar = progress(`${lane.name} lane`);
    },
    progress: (_lane, done, total) => bar?.update(done, total),
    onLaneEnd: (result) => {
      bar?.done();
      if (result.status !== 'ok')
        console.error(`${result.lane} lane ${result.status}: ${result.reason}`);
    },
  });
  const results = save(null);
  const written = report ? await renderReports(results, out) : { written: [], note: null };
  if (written.note !== null) console.error(`bench: ${written.note}`);
  if (json) console.log(JSON.stringify(results, null, 2));
  else {
    console.log(terminalSummary(results).join('\n'));
    for (const path of [resultsPath, ...written.written]) console.log(`wrote ${path}`);
  }
  // A failed lane fails the command (a VM smoke test or nightly job must see it); the results stay written.
  if (!results.complete) {
    console.error(`bench: incomplete: ${results.incompleteReason}`);
    return 1;
  }
  return 0;
}

runCli('bench', () => main(process.argv.slice(2)));
