// `npm run fuzz`: the safety matrix of every design and property, the
// mutation score, and shrunk counterexamples. Deterministic for a seed;
// new counterexamples go to the corpus that the tests replay.
// `npm run fuzz -- --replay FILE` runs one saved counterexample again.

import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDesigns, parseIntList, parsePositive, runCli, UsageError } from '../bench/args.js';
import { checkOutDir } from '../bench/out-dir.js';
import { progress } from '../bench/progress.js';
import { writeAtomic } from '../bench/results.js';
import { fuzzTextLines, mutationScore } from '../reports/fuzz.js';
import { wrap } from '../reports/text.js';
import {
  CORPUS_DIR,
  corpusFileName,
  loadCorpus,
  readCorpusEntry,
  replayCommand,
  saveCorpus,
} from './corpus.js';
import { explain } from './engine.js';
import { DEFAULT_JOBS, type FuzzReport, runMatrix } from './matrix.js';
import { PROPERTIES, type PropertyName } from './properties.js';
import { JOB_PROTOCOLS, type JobProtocol } from './scenario.js';
import { swimlaneText } from './timeline.js';

export const DEFAULT_RUNS = 250;
export const DEFAULT_MUTANT_RUNS = 4000;

const USAGE = `usage: npm run fuzz -- [options]
       npm run fuzz -- --replay FILE
Fuzzes registration and SQE races on every design and prints the safety
matrix, the mutation score and shrunk counterexamples. --replay runs one
saved counterexample (a corpus file) again and prints its swimlane: exit 0
when the violation still occurs, 1 when it no longer does.
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
  --replay FILE     replay the counterexample saved in FILE (other options ignored)
  -h, --help        this text`;

/**
 * `file` as the user meant it: npm runs scripts in the package root, so a
 * path relative to the directory npm was started in (INIT_CWD) is tried
 * when it is not found from here.
 */
function replayPath(file: string): string {
  const here = resolve(file);
  const init = process.env.INIT_CWD;
  if (existsSync(here) || isAbsolute(file) || init === undefined) return here;
  const there = resolve(init, file);
  return existsSync(there) ? there : here;
}

/** --replay: runs the saved counterexample in `file` again; 0 when it still fails, 1 when not. */
function replay(file: string): number {
  const item = readCorpusEntry(replayPath(file));
  if (item.problem !== null) throw new UsageError(`--replay ${file}: ${item.problem}`);
  const e = item.entry;
  const mutant = e.mutant ?? null;
  const subject = mutant === null ? e.design : `${e.design} with ${mutant} planted`;
  const now = explain(e.design, e.property, e.scenario, mutant);
  if (now === null) {
    console.log(`${file}: ${subject} no longer violates ${e.property} on this scenario`);
    return 1;
  }
  console.log(wrap(`${file}: ${subject} violates ${e.property}: ${now.message}`, 80).join('\n'));
  if (now.message !== e.message)
    console.log(wrap(`(saved with a different message: ${e.message})`, 80, '  ').join('\n'));
  if (now.violationStep !== null) {
    const step = now.steps[now.violationStep];
    console.log(
      `violated at step ${now.violationStep} (${step?.actor}: ${step?.label}), marked >>`,
    );
  }
  console.log(swimlaneText(now.steps, now.violationStep).join('\n'));
  return 0;
}

/**
 * Printed counterexamples whose replay file does not hold them: the corpus
 * keeps the first one found for a design and property, so a later run may
 * print another. One line each, so that a replay command never silently
 * runs a different scenario.
 */
function corpusNotes(report: FuzzReport, dir: string): string[] {
  const corpus = new Map(loadCorpus(dir).map((c) => [c.file, c]));
  const seen = new Set<string>();
  const notes: string[] = [];
  for (const r of report.results) {
    const c = r.counterexample;
    if (c === null || r.mutant !== null || seen.has(`${r.design}|${r.property}`)) continue;
    seen.add(`${r.design}|${r.property}`);
    const file = corpusFileName(r.design, r.property);
    const saved = corpus.get(file);
    if (saved === undefined) notes.push(`${file}: not in the corpus, so its replay finds nothing`);
    else if (saved.entry === null) notes.push(`${file} cannot be replayed: ${saved.problem}`);
    else if (JSON.stringify(saved.entry.scenario) !== JSON.stringify(c.scenario))
      notes.push(
        `${file} holds an earlier counterexample of ${r.design} / ${r.property}: its replay runs that one`,
      );
  }
  return notes;
}

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
      replay: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.replay !== undefined) return replay(values.replay);
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
  const saving = values['no-corpus'] !== true;
  const saved = saving ? saveCorpus(report.results, values.corpus) : [];
  if (values.out !== undefined)
    writeAtomic(join(values.out, 'fuzz.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(fuzzTextLines(report, { corpusDir: values.corpus }).join('\n'));
    const s = mutationScore(report);
    console.log(
      `\nseed ${seed}, ${runs} runs per job, ${(report.ms / 1000).toFixed(1)} s; mutation score ${s.killed}/${s.total}`,
    );
    for (const path of saved)
      console.log(`new counterexample saved; replay: ${replayCommand(path)}`);
    if (!saving)
      console.log(
        '--no-corpus: nothing saved; a replay command runs what the corpus holds, if any',
      );
    else
      for (const note of corpusNotes(report, values.corpus)) console.log(wrap(note, 80).join('\n'));
  }
  return 0;
}

runCli('fuzz', () => main(process.argv.slice(2)));
