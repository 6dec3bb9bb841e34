// The counterexample corpus: every violation the fuzzer finds on a design
// (not on a planted bug) is kept as fuzz/corpus/<design>--<property>.json,
// and the tests replay each one, so a verdict cannot change silently. Each
// entry is checked against its format before it is replayed, so a damaged
// file is one clear problem naming it, never a crash in the model.

import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAtomic } from '../bench/results.js';
import { PRIVILEGES } from '../designs/kernel/creds.js';
import { findDesign } from '../designs/registry.js';
import type { JobResult } from './engine.js';
import { mutantsOf } from './mutants.js';
import { PROPERTIES, type PropertyName } from './properties.js';
import { CROSS_RING_OPS, JOB_PROTOCOLS, PROTOCOLS, type Scenario } from './scenario.js';

/** The source tree's root (dist/fuzz/corpus.js is two levels below it). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The corpus shipped with the suite (the source tree's fuzz/corpus). */
export const CORPUS_DIR = join(ROOT, 'fuzz', 'corpus');

/**
 * The corpus format this suite writes and reads. Entries written before the
 * field existed have none and are read as format 1 when they validate; a
 * change to the format bumps it, so an old suite refuses a newer entry by
 * name instead of misreading it.
 */
export const CORPUS_FORMAT = 1;

export interface CorpusEntry {
  readonly format?: number;
  readonly design: string;
  readonly property: PropertyName;
  /** The planted bug the scenario was found with, or null (absent) for the design as written. */
  readonly mutant?: string | null;
  /** The services' protocol of the job that found it ('mixed' for a mix). */
  readonly protocol: string;
  readonly message: string;
  readonly seed: number;
  readonly path: string;
  readonly scenario: Scenario;
  /** How to replay it (written for a reader; the file's place is what counts). */
  readonly replay?: string;
}

/** The corpus file of a counterexample of `property` on `design`. */
export const corpusFileName = (design: string, property: string) =>
  `${design.replace('+', '_')}--${property}.json`;

/** `path` as a reader would type it in the source tree: relative to the root when inside it. */
function displayPath(path: string): string {
  const rel = relative(ROOT, resolve(path));
  return rel.startsWith('..') || isAbsolute(rel) ? resolve(path) : rel;
}

/** The command that replays the corpus file at `path`. */
export function replayCommand(path: string): string {
  return `npm run fuzz -- --replay ${displayPath(path)}`;
}

/** The replay command of the counterexample `npm run fuzz` saves for `property` on `design`. */
export function corpusReplayCommand(design: string, property: string): string {
  return replayCommand(join(CORPUS_DIR, corpusFileName(design, property)));
}

/** Saves each new violation (one per design and property); returns the paths written. */
export function saveCorpus(results: readonly JobResult[], dir = CORPUS_DIR): string[] {
  const written: string[] = [];
  for (const r of results) {
    if (r.verdict !== 'violated' || r.mutant !== null || r.counterexample === null) continue;
    const path = join(dir, corpusFileName(r.design, r.property));
    if (existsSync(path)) continue;
    const c = r.counterexample;
    const entry: CorpusEntry = {
      format: CORPUS_FORMAT,
      design: r.design,
      property: r.property,
      mutant: null,
      protocol: r.protocol,
      message: c.message,
      seed: c.seed,
      path: c.path,
      scenario: c.scenario,
      replay: replayCommand(path),
    };
    mkdirSync(dir, { recursive: true });
    writeAtomic(path, `${JSON.stringify(entry, null, 2)}\n`);
    written.push(path);
  }
  return written;
}

// The validator: what replaying needs, checked field by field. Fields it
// does not know are let through, so a scenario may grow new ones.

type Json = unknown;
const isObject = (x: Json): x is Record<string, Json> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
const isInt = (x: Json): x is number => typeof x === 'number' && Number.isInteger(x);

/** The first problem with `x` as a scenario, or null. */
function scenarioProblem(x: Json): string | null {
  if (!isObject(x)) return 'scenario is not an object';
  const { processes, actors, priorities, changes } = x;
  if (!Array.isArray(processes) || processes.length === 0)
    return 'scenario.processes is not a non-empty list';
  for (const [i, p] of processes.entries()) {
    if (!isObject(p) || !isInt(p.ns) || !isInt(p.team))
      return `scenario.processes[${i}] needs whole numbers ns and team`;
    if (p.privilege !== undefined && !(PRIVILEGES as readonly Json[]).includes(p.privilege))
      return `scenario.processes[${i}].privilege is not one of ${PRIVILEGES.join(', ')}`;
    if (p.sqpoll !== undefined && typeof p.sqpoll !== 'boolean')
      return `scenario.processes[${i}].sqpoll is not true or false`;
    if (p.sqpoll === true && p.deferTaskrun === true)
      return `scenario.processes[${i}] asks for SQPOLL with DEFER_TASKRUN, which the kernel refuses`;
    if (p.rings !== undefined && !(isInt(p.rings) && p.rings >= 1 && p.rings <= 3))
      return `scenario.processes[${i}].rings is not a whole number from 1 to 3`;
    if (p.addresses !== undefined && !(Array.isArray(p.addresses) && p.addresses.every(isInt)))
      return `scenario.processes[${i}].addresses is not a list of whole numbers`;
  }
  if (!Array.isArray(actors) || actors.length === 0)
    return 'scenario.actors is not a non-empty list';
  for (const [i, a] of actors.entries()) {
    const at = `scenario.actors[${i}]`;
    if (!isObject(a)) return `${at} is not an object`;
    if (!isInt(a.process) || a.process < 0 || a.process >= processes.length)
      return `${at}.process is not the index of one of the ${processes.length} processes`;
    if (typeof a.protocol !== 'string' || !(PROTOCOLS as readonly string[]).includes(a.protocol))
      return `${at}.protocol is not one of ${PROTOCOLS.join(', ')}`;
    if (!isInt(a.id) || !isInt(a.extra)) return `${at} needs whole numbers id and extra`;
    if (!Array.isArray(a.requests)) return `${at}.requests is not a list`;
    if (a.pin !== undefined && typeof a.pin !== 'boolean') return `${at}.pin is not true or false`;
    if (a.fork !== undefined && typeof a.fork !== 'boolean')
      return `${at}.fork is not true or false`;
    if (a.ring !== undefined && !(isInt(a.ring) && a.ring >= 0))
      return `${at}.ring is not a ring index`;
    if (a.crossRing !== undefined && !(CROSS_RING_OPS as readonly Json[]).includes(a.crossRing))
      return `${at}.crossRing is not one of ${CROSS_RING_OPS.join(', ')}`;
    if (a.detach !== undefined && typeof a.detach !== 'boolean')
      return `${at}.detach is not true or false`;
    const p = a.program;
    if (
      !isObject(p) ||
      !(p.prep === null || isInt(p.prep)) ||
      !isInt(p.issueRet) ||
      !isInt(p.issueRes) ||
      typeof p.fail !== 'boolean' ||
      typeof p.cleanup !== 'boolean'
    )
      return `${at}.program needs prep, issueRet, issueRes, fail and cleanup`;
    if (p.memcpy !== undefined && typeof p.memcpy !== 'boolean')
      return `${at}.program.memcpy is not true or false`;
  }
  if (!Array.isArray(priorities) || !priorities.every(isInt))
    return 'scenario.priorities is not a list of whole numbers';
  if (!Array.isArray(changes) || !changes.every(isInt))
    return 'scenario.changes is not a list of whole numbers';
  return null;
}

/** The first problem with `x` as a corpus entry, or null when it is one this suite can replay. */
export function corpusEntryProblem(x: Json): string | null {
  if (!isObject(x)) return 'not a corpus entry (not a JSON object)';
  const format = x.format ?? 1;
  if (!isInt(format) || format < 1) return `format '${String(x.format)}' is not a version number`;
  if (format > CORPUS_FORMAT)
    return `format ${format} is newer than this suite reads (${CORPUS_FORMAT})`;
  if (typeof x.design !== 'string') return 'no design';
  const found = findDesign(x.design);
  if (!found.ok) return found.message;
  if (typeof x.property !== 'string') return 'no property';
  if (!(PROPERTIES as readonly string[]).includes(x.property))
    return `unknown property '${x.property}' (known: ${PROPERTIES.join(', ')})`;
  const mutant = x.mutant ?? null;
  if (mutant !== null && (typeof mutant !== 'string' || !mutantsOf(x.design).includes(mutant)))
    return `'${String(mutant)}' is not a planted bug of ${x.design}`;
  if (typeof x.protocol !== 'string' || !(JOB_PROTOCOLS as readonly string[]).includes(x.protocol))
    return `protocol is not one of ${JOB_PROTOCOLS.join(', ')}`;
  if (typeof x.message !== 'string') return 'no message';
  if (!isInt(x.seed)) return 'seed is not a whole number';
  if (typeof x.path !== 'string') return 'path is not a string';
  if (!('scenario' in x)) return 'no scenario';
  return scenarioProblem(x.scenario);
}

/** A corpus file read and checked: the entry, or the problem that keeps it from being replayed. */
export type CorpusItem =
  | { readonly file: string; readonly entry: CorpusEntry; readonly problem: null }
  | { readonly file: string; readonly entry: null; readonly problem: string };

/** Reads the corpus entry at `path`; a missing, unreadable, non-JSON or malformed file gives its problem. */
export function readCorpusEntry(path: string): CorpusItem {
  const file = path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    return {
      file,
      entry: null,
      problem:
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EISDIR'
            ? 'is a directory'
            : `cannot read it (${code ?? (e as Error).message})`,
    };
  }
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // JSON.parse quotes the text it stopped at, newlines included: one line it is.
    const why = (e as Error).message.replace(/\s+/g, ' ');
    return { file, entry: null, problem: `not valid JSON (${why})` };
  }
  const problem = corpusEntryProblem(json);
  return problem === null
    ? { file, entry: json as CorpusEntry, problem: null }
    : { file, entry: null, problem };
}

/** Every .json file in `dir`, by name, each read and checked on its own. */
export function loadCorpus(dir = CORPUS_DIR): CorpusItem[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ ...readCorpusEntry(join(dir, f)), file: f }));
}
