// `npm run fuzz`: the safety matrix of every design and property, the
// mutation score, and shrunk counterexamples. Deterministic for a seed;
// new counterexamples go to the corpus that the tests replay.

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDesigns, parseIntList, parsePositive, runCli, UsageError } from '../bench/args.js';
import { checkOutDir } from '../bench/out-dir.js';
import { progress } from '../bench/progress.js';
import { writeAtomic } from '../bench/results.js';
import { fuzzTextLines, mutationScore } from '../reports/fuzz.js';
import { CORPUS_DIR, saveCorpus } from './corpus.js';
import { DEFAULT_JOBS, runMatrix } from './matrix.js';
import { PROPERTIES, type PropertyName } from './properties.js';
import { JOB_PROTOCOLS, type JobProtocol } from './scenario.js';

export const DEFAULT_RUNS = 250;
export const DEFAULT_MUTANT_RUNS = 4000;

const USAGE = `usage: npm run fuzz -- [options]
Fuzzes registration and SQE races on every design and prints the safety
matrix, the mutation score and shrunk counterexamples.
  --seed N          run seed (default 1): the same seed, the same answers
  --runs N          scenarios per (design, protocol, property) job (default
                    ${DEFAULT_RUNS}; six times that for the mixed protocol)
  --mutant-runs N   scenarios per (planted bug, property) job (default ${DEFAULT_MUTANT_RUNS})
  --time S          stop generating in a job after S seconds (default 20)
  --designs LIST    designs and variants (default: all)
  --properties LIST (default: all: ${PROPERTIES.join(',')})
  --protocols LIST  the services' protocol, one job each (default: all:
                    ${JOB_PROTOCOLS.join(',')}); a hostile process may join any
  --jobs N          worker threads (default ${DEFAULT_JOBS}, one per core)
  --no-mutants      skip the planted bugs
  --corpus DIR      where new counterexamples are saved (default fuzz/corpus)
  --no-corpus       save none
  --out DIR         also write fuzz.json there
  --json            print the report as JSON instead of text
  -h, --help        this text`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string', default: '1' },
      runs: { type: 'string', default: String(DEFAULT_RUNS) },
      'mutant-runs': { type: 'string', default: String(DEFAULT_MUTANT_RUNS) },
      time: { type: 'string', default: '20' },
      designs: { type: 'string' },
      properties: { type: 'string' },
      protocols: { type: 'string' },
      jobs: { type: 'string', default: String(DEFAULT_JOBS) },
      'no-mutants': { type: 'boolean' },
      corpus: { type: 'string', default: CORPUS_DIR },
      'no-corpus': { type: 'boolean' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [seed = 1] = parseIntList('--seed', values.seed, 0, 0x7fffffff);
  const [runs = DEFAULT_RUNS] = parseIntList('--runs', values.runs, 1, 1_000_000);
  const [mutantRuns = DEFAULT_MUTANT_RUNS] = parseIntList(
    '--mutant-runs',
    values['mutant-runs'],
    1,
    1_000_000,
  );
  const [jobs = 1] = parseIntList('--jobs', values.jobs, 1, 64);
  const time = parsePositive('--time', values.time, 86_400);
  const designs = parseDesigns(values.designs);
  const properties = (values.properties?.split(',').map((p) => p.trim()) ?? [
    ...PROPERTIES,
  ]) as PropertyName[];
  for (const p of properties) {
    if (!PROPERTIES.includes(p))
      throw new UsageError(
        `--properties: unknown property '${p}' (known: ${PROPERTIES.join(', ')})`,
      );
  }
  const protocols = (values.protocols?.split(',').map((p) => p.trim()) ?? [
    ...JOB_PROTOCOLS,
  ]) as JobProtocol[];
  for (const p of protocols) {
    if (!JOB_PROTOCOLS.includes(p)) {
      throw new UsageError(
        `--protocols: unknown protocol '${p}' (known: ${JOB_PROTOCOLS.join(', ')})`,
      );
    }
  }
  if (values.out !== undefined) {
    const problem = checkOutDir(values.out);
    if (problem !== null) throw new UsageError(problem);
  }
  const bar = progress('fuzzing');
  const report = await runMatrix(
    {
      seed,
      runs,
      mutantRuns,
      timeLimitMs: time * 1000,
      designs,
      properties,
      protocols,
      jobs,
      mutants: values['no-mutants'] !== true,
    },
    (d, t) => bar.update(d, t),
  );
  bar.done();
  const saved = values['no-corpus'] ? [] : saveCorpus(report.results, values.corpus);
  if (values.out !== undefined)
    writeAtomic(join(values.out, 'fuzz.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(fuzzTextLines(report).join('\n'));
    const s = mutationScore(report);
    console.log(
      `\nseed ${seed}, ${runs} runs per job, ${(report.ms / 1000).toFixed(1)} s; mutation score ${s.killed}/${s.total}`,
    );
    for (const path of saved) console.log(`new counterexample saved: ${path}`);
  }
  return 0;
}

runCli('fuzz', () => main(process.argv.slice(2)));
