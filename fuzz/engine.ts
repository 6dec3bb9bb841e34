// One fuzz job: one property on one design (with or without a planted bug),
// checked by fast-check over generated scenarios and interleavings, with
// the failing scenario shrunk. Deterministic: the job's seed comes from the
// run's seed and the job's name, so a job gives the same answer whether it
// runs alone, in a serial run or on a worker thread.

import fc from 'fast-check';
import { findDesign } from '../designs/registry.js';
import { CHECKS, notApplicable, type PropertyName } from './properties.js';
import { type JobProtocol, type Scenario, scenarioArbitrary } from './scenario.js';
import { simulate } from './simulate.js';
import { timeline } from './timeline.js';

export interface JobSpec {
  readonly design: string;
  readonly mutant: string | null;
  /** The services' protocol in every scenario, or null for a mix. */
  readonly protocol: JobProtocol;
  readonly property: PropertyName;
  readonly seed: number;
  readonly runs: number;
  /** fast-check stops generating after this long (shrinking still finishes). */
  readonly timeLimitMs: number;
}

export interface Counterexample {
  readonly message: string;
  readonly seed: number;
  /** fast-check's path to the shrunk case: replay with { seed, path }. */
  readonly path: string;
  readonly scenario: Scenario;
  readonly timeline: readonly string[];
  readonly timeToFirstFailureMs: number;
  readonly shrinks: number;
}

export interface JobResult {
  readonly design: string;
  readonly mutant: string | null;
  readonly protocol: JobProtocol;
  readonly property: PropertyName;
  readonly verdict: 'holds' | 'violated' | 'not-applicable';
  readonly runs: number;
  readonly ms: number;
  /** Why the property cannot be checked here (not-applicable only). */
  readonly reason: string | null;
  readonly counterexample: Counterexample | null;
}

/** A 32-bit seed for `name` derived from the run's seed (FNV-1a). */
export function jobSeed(runSeed: number, name: string): number {
  let h = (2166136261 ^ runSeed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h | 0;
}

/** The one-line failure and timeline of `scenario`, or null when the property holds for it. */
export function explain(
  design: string,
  property: PropertyName,
  scenario: Scenario,
  mutant: string | null = null,
) {
  const found = findDesign(design);
  if (!found.ok) throw new Error(found.message);
  const o = simulate(found.design, scenario, mutant === null ? [] : [mutant]);
  const message = CHECKS[property](o);
  return message === null ? null : { message, timeline: timeline(o.m.scheduler.history) };
}

/** Runs one job. */
export function runJob(spec: JobSpec): JobResult {
  const start = performance.now();
  const found = findDesign(spec.design);
  if (!found.ok) throw new Error(found.message);
  const design = found.design;
  const base = {
    design: spec.design,
    mutant: spec.mutant,
    protocol: spec.protocol,
    property: spec.property,
  };
  const na = notApplicable(design, spec.property);
  if (na !== null)
    return { ...base, verdict: 'not-applicable', runs: 0, ms: 0, reason: na, counterexample: null };
  const mutations = spec.mutant === null ? [] : [spec.mutant];
  let firstFailure: number | null = null;
  const check = CHECKS[spec.property];
  const property = fc.property(scenarioArbitrary(spec.protocol), (scenario) => {
    // With a planted bug, only a failure the design as written does not show on the same scenario counts.
    const ok =
      check(simulate(design, scenario, mutations)) === null ||
      (spec.mutant !== null && check(simulate(design, scenario)) !== null);
    if (!ok && firstFailure === null) firstFailure = performance.now() - start;
    return ok;
  });
  const result = fc.check(property, {
    seed: spec.seed,
    numRuns: spec.runs,
    interruptAfterTimeLimit: spec.timeLimitMs,
  });
  const ms = performance.now() - start;
  if (!result.failed || result.counterexample === null) {
    return {
      ...base,
      verdict: 'holds',
      runs: result.numRuns,
      ms,
      reason: null,
      counterexample: null,
    };
  }
  const scenario = result.counterexample[0] as Scenario;
  const why = explain(spec.design, spec.property, scenario, spec.mutant);
  return {
    ...base,
    verdict: 'violated',
    runs: result.numRuns,
    ms,
    reason: null,
    counterexample: {
      message: why?.message ?? 'failed in fast-check but not on replay (a model bug)',
      seed: result.seed,
      path: result.counterexamplePath ?? '',
      scenario,
      timeline: why?.timeline ?? [],
      timeToFirstFailureMs: firstFailure ?? ms,
      shrinks: result.numShrinks,
    },
  };
}
