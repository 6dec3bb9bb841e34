// The counterexample corpus: every violation the fuzzer finds on a design
// (not on a planted bug) is kept as fuzz/corpus/<design>--<property>.json,
// and the tests replay each one, so a verdict cannot change silently.

import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAtomic } from '../bench/results.js';
import type { JobResult } from './engine.js';
import type { PropertyName } from './properties.js';
import type { Scenario } from './scenario.js';

/** The corpus shipped with the suite (the source tree's fuzz/corpus). */
export const CORPUS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'fuzz',
  'corpus',
);

export interface CorpusEntry {
  readonly design: string;
  readonly property: PropertyName;
  /** The services' protocol of the job that found it ('mixed' for a mix). */
  readonly protocol: string;
  readonly message: string;
  readonly seed: number;
  readonly path: string;
  readonly scenario: Scenario;
}

const fileName = (design: string, property: string) =>
  `${design.replace('+', '_')}--${property}.json`;

/** Saves each new violation (one per design and property); returns the paths written. */
export function saveCorpus(results: readonly JobResult[], dir = CORPUS_DIR): string[] {
  const written: string[] = [];
  for (const r of results) {
    if (r.verdict !== 'violated' || r.mutant !== null || r.counterexample === null) continue;
    const path = join(dir, fileName(r.design, r.property));
    if (existsSync(path)) continue;
    const c = r.counterexample;
    const entry: CorpusEntry = {
      design: r.design,
      property: r.property,
      protocol: r.protocol,
      message: c.message,
      seed: c.seed,
      path: c.path,
      scenario: c.scenario,
    };
    mkdirSync(dir, { recursive: true });
    writeAtomic(path, `${JSON.stringify(entry, null, 2)}\n`);
    written.push(path);
  }
  return written;
}

/** Every corpus entry in `dir`, with its file name. */
export function loadCorpus(dir = CORPUS_DIR): { file: string; entry: CorpusEntry }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      entry: JSON.parse(readFileSync(join(dir, file), 'utf8')) as CorpusEntry,
    }));
}
