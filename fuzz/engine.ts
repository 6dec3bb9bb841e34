// One fuzz job: one property on one design (with or without a planted bug),
// checked by fast-check over generated scenarios and interleavings, with
// the failing scenario shrunk by fast-check, then minimized (fuzz/minimize.ts)
// and its violating step found. Deterministic: the job's seed comes from the
// run's seed and the job's name, so a job gives the same answer whether it
// runs alone, in a serial run or on a worker thread.

import fc from 'fast-check';
import type { DesignDef } from '../designs/design.js';
import { findDesign } from '../designs/registry.js';
import { minimize, type Runner, violationStep } from './minimize.js';
import { CHECKS, notApplicable, type PropertyName } from './properties.js';
import { type JobProtocol, type Scenario, scenarioArbitrary } from './scenario.js';
import { simulate } from './simulate.js';
import type { SwimlaneStep } from './timeline.js';

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
  /** fast-check's path to its shrunk case (before minimizing): replay with { seed, path }. */
  readonly path: string;
  /** The minimized scenario: what the message, steps and violation step are of. */
  readonly scenario: Scenario;
  /** Every scheduler step of the run; a step's number is its index. */
  readonly steps: readonly SwimlaneStep[];
  /** The step at which the property first fails (the last step for one about the end of the run). */
  readonly violationStep: number | null;
  readonly timeToFirstFailureMs: number;
  readonly shrinks: number;
  /** Actors, processes, requests and change points the minimizer removed after fast-check. */
  readonly removed: number;
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

/** What a scenario shows on a design: the property's one-line failure, the run's steps and the violating step. */
export interface Explanation {
  readonly message: string;
  readonly steps: readonly SwimlaneStep[];
  readonly violationStep: number | null;
}

/** A Runner for `design` with `mutant` planted (or none). */
function runnerFor(design: DesignDef, mutant: string | null): Runner {
  const mutations = mutant === null ? [] : [mutant];
  return (scenario, maxSteps) => simulate(design, scenario, mutations, maxSteps);
}

/** The failure of `scenario`, its steps and its violating step, or null when the property holds for it. */
export function explain(
  design: string,
  property: PropertyName,
  scenario: Scenario,
  mutant: string | null = null,
): Explanation | null {
  const found = findDesign(design);
  if (!found.ok) throw new Error(found.message);
  const run = runnerFor(found.design, mutant);
  const check = CHECKS[property];
  const o = run(scenario);
  const message = check(o);
  if (message === null) return null;
  return {
    message,
    steps: o.m.scheduler.history.map((h) => ({ actor: h.actor, label: h.label })),
    violationStep: violationStep(scenario, check, run),
  };
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
  let firstFailure: number | null = null;
  const check = CHECKS[spec.property];
  const run = runnerFor(design, spec.mutant);
  const asWritten = runnerFor(design, null);
  // With a planted bug, only a failure the design as written does not show on the same scenario counts.
  const fails = (scenario: Scenario) =>
    check(run(scenario)) !== null && (spec.mutant === null || check(asWritten(scenario)) === null);
  const property = fc.property(scenarioArbitrary(spec.protocol), (scenario) => {
    const ok = !fails(scenario);
    if (!ok && firstFailure === null) firstFailure = performance.now() - start;
    return ok;
  });
  const result = fc.check(property, {
    seed: spec.seed,
    numRuns: spec.runs,
    interruptAfterTimeLimit: spec.timeLimitMs,
  });
  if (!result.failed || result.counterexample === null) {
    return {
      ...base,
      verdict: 'holds',
      runs: result.numRuns,
      ms: performance.now() - start,
      reason: null,
      counterexample: null,
    };
  }
  const shrunk = result.counterexample[0] as Scenario;
  // A scenario that does not fail again is a model bug (nondeterminism): keep it as fast-check found it.
  const small = fails(shrunk) ? minimize(shrunk, fails, run) : { scenario: shrunk, removed: 0 };
  const why = explain(spec.design, spec.property, small.scenario, spec.mutant);
  return {
    ...base,
    verdict: 'violated',
    runs: result.numRuns,
    ms: performance.now() - start,
    reason: null,
    counterexample: {
      message: why?.message ?? 'failed in fast-check but not on replay (a model bug)',
      seed: result.seed,
      path: result.counterexamplePath ?? '',
      scenario: small.scenario,
      steps: why?.steps ?? [],
      violationStep: why?.violationStep ?? null,
      timeToFirstFailureMs: firstFailure ?? performance.now() - start,
      shrinks: result.numShrinks,
      removed: small.removed,
    },
  };
}
