// The whole fuzz run: every (design, protocol, property) job, then every
// planted bug against the properties until one tells it from the design as
// written, spread over worker threads. Every job is deterministic on its
// own, so the verdicts and counterexamples are the same with one worker or
// many.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DesignDef } from '../designs/design.js';
import { type JobResult, type JobSpec, jobSeed, runJob } from './engine.js';
import { MUTANTS, mutantsOf } from './mutants.js';
import type { PropertyName } from './properties.js';
import type { JobProtocol } from './scenario.js';

export interface FuzzOptions {
  readonly seed: number;
  /** Scenarios per (design, property) job. */
  readonly runs: number;
  /** Scenarios per (mutant, property) job: a planted bug may need a narrow interleaving. */
  readonly mutantRuns: number;
  readonly timeLimitMs: number;
  readonly designs: readonly DesignDef[];
  readonly properties: readonly PropertyName[];
  /** The services' protocols to check each property under, one job each. */
  readonly protocols: readonly JobProtocol[];
  /** Worker threads; 1 runs everything on this thread. */
  readonly jobs: number;
  readonly mutants: boolean;
}

export interface MutantResult {
  readonly design: string;
  readonly mutant: string;
  readonly what: string;
  readonly killed: boolean;
  /** The property that caught it, or null. */
  readonly by: PropertyName | null;
  /** The property that names its real effect (tried first). */
  readonly effect: PropertyName | null;
  /** Properties tried, in order, until one caught it. */
  readonly tried: readonly PropertyName[];
  readonly result: JobResult | null;
}

export interface FuzzReport {
  readonly results: readonly JobResult[];
  readonly mutants: readonly MutantResult[];
  readonly ms: number;
}

/** A task for a worker: one job, or a mutant's jobs in order until one finds a violation. */
export type Task =
  | { readonly kind: 'job'; readonly spec: JobSpec }
  | { readonly kind: 'mutant'; readonly specs: readonly JobSpec[] };

/** Runs a task on this thread. */
export function runTask(task: Task): JobResult[] {
  if (task.kind === 'job') return [runJob(task.spec)];
  const out: JobResult[] = [];
  for (const spec of task.specs) {
    const r = runJob(spec);
    out.push(r);
    if (r.verdict === 'violated') break;
  }
  return out;
}

/** Properties to try a planted bug against, most telling first. */
const MUTANT_ORDER: readonly PropertyName[] = [
  'use-after-free',
  'null-call',
  'crash',
  'deadlock',
  'bounds',
  'pairing',
  'unregister-liveness',
  'completion',
  'consistency',
  'stale-id',
  'hijack',
  'isolation',
];

export const DEFAULT_JOBS = Math.max(1, Math.min(availableParallelism(), 8));

/** Runs `tasks` on `jobs` workers (or here, for 1), in task order; reports each finished task. */
async function runTasks(
  tasks: readonly Task[],
  jobs: number,
  onDone: () => void,
): Promise<JobResult[][]> {
  if (jobs <= 1) {
    return tasks.map((t) => {
      const r = runTask(t);
      onDone();
      return r;
    });
  }
  const results: JobResult[][] = new Array(tasks.length);
  let next = 0;
  const workerUrl = new URL('./worker.js', import.meta.url);
  const runOne = (worker: Worker): Promise<void> =>
    new Promise((resolve, reject) => {
      const index = next++;
      if (index >= tasks.length) {
        resolve();
        return;
      }
      worker.once(
        'message',
        (msg: { ok: true; results: JobResult[] } | { ok: false; error: string }) => {
          if (!msg.ok) {
            reject(new Error(msg.error));
            return;
          }
          results[index] = msg.results;
          onDone();
          runOne(worker).then(resolve, reject);
        },
      );
      worker.postMessage(tasks[index]);
    });
  const workers = Array.from({ length: Math.min(jobs, tasks.length) }, () => new Worker(workerUrl));
  try {
    await Promise.all(workers.map((w) => runOne(w)));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

/** The fuzz matrix and the mutation score for `opts`; `progress` gets (tasks done, tasks in all). */
export async function runMatrix(
  opts: FuzzOptions,
  progress: (done: number, total: number) => void = () => {},
): Promise<FuzzReport> {
  const start = performance.now();
  const spec = (
    design: string,
    mutant: string | null,
    protocol: JobProtocol,
    property: PropertyName,
  ): JobSpec => ({
    design,
    mutant,
    protocol,
    property,
    seed: jobSeed(opts.seed, `${design}|${mutant ?? ''}|${protocol}|${property}`),
    // A mix of protocols has the most to explore (siblings of different kinds), so it gets six times the runs.
    runs: mutant !== null ? opts.mutantRuns : protocol === 'mixed' ? 6 * opts.runs : opts.runs,
    timeLimitMs: opts.timeLimitMs,
  });
  const first: Task[] = opts.designs.flatMap((d) =>
    opts.properties.flatMap((p) =>
      opts.protocols.map((protocol) => ({
        kind: 'job' as const,
        spec: spec(d.name, null, protocol, p),
      })),
    ),
  );
  const mutantCount = opts.mutants
    ? opts.designs.reduce((n, d) => n + mutantsOf(d.name).length, 0)
    : 0;
  const total = first.length + mutantCount;
  let done = 0;
  const tick = () => progress(++done, total);
  const results = (await runTasks(first, opts.jobs, tick)).flat();

  const mutantTasks: { design: string; mutant: string; task: Task }[] = [];
  if (opts.mutants) {
    for (const d of opts.designs) {
      // Properties in the order most planted bugs show in; the first distinguishing failure ends the task.
      const order = [...opts.properties].sort(
        (x, y) => MUTANT_ORDER.indexOf(x) - MUTANT_ORDER.indexOf(y),
      );
      for (const mutant of mutantsOf(d.name)) {
        // The property naming the bug's real effect goes first.
        const effect = MUTANTS[mutant]?.effect;
        const mine = effect !== undefined && order.includes(effect) ? [effect] : [];
        const props = [...mine, ...order.filter((p) => p !== effect)];
        mutantTasks.push({
          design: d.name,
          mutant,
          task: { kind: 'mutant', specs: props.map((p) => spec(d.name, mutant, 'mixed', p)) },
        });
      }
    }
  }
  const mutantRuns = await runTasks(
    mutantTasks.map((t) => t.task),
    opts.jobs,
    tick,
  );
  const mutants = mutantTasks.map((t, i): MutantResult => {
    const runs = mutantRuns[i] ?? [];
    const kill = runs.find((r) => r.verdict === 'violated') ?? null;
    return {
      design: t.design,
      mutant: t.mutant,
      what: MUTANTS[t.mutant]?.what ?? '',
      effect: MUTANTS[t.mutant]?.effect ?? null,
      killed: kill !== null,
      by: kill?.property ?? null,
      tried: runs.map((r) => r.property),
      result: kill,
    };
  });
  return { results, mutants, ms: performance.now() - start };
}
