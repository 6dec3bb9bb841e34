// The scenario fields issue 14 part 2 added: the hostile process's
// privilege, pinning and forking actors, SQPOLL rings. Each is optional
// (absent: the old behaviour, so saved counterexamples replay), generated
// in valid combinations only (never SQPOLL with DEFER_TASKRUN), accepted by
// the corpus validator, and every generated scenario runs on every design.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DESIGNS } from '../../designs/registry.js';
import { CORPUS_FORMAT, corpusEntryProblem } from '../../fuzz/corpus.js';
import { type Scenario, scenarioArbitrary } from '../../fuzz/scenario.js';
import { simulate } from '../../fuzz/simulate.js';

const sample = fc.sample(scenarioArbitrary(), { seed: 21, numRuns: 300 });

const entryOf = (scenario: Scenario) => ({
  format: CORPUS_FORMAT,
  design: 'global-array',
  property: 'hijack',
  mutant: null,
  protocol: 'mixed',
  message: 'x',
  seed: 1,
  path: '0',
  scenario,
});

describe('issue 14 scenario fields', () => {
  it('generates SQPOLL rings, never together with DEFER_TASKRUN', () => {
    const processes = sample.flatMap((s) => s.processes);
    assert.ok(processes.some((p) => p.sqpoll === true));
    assert.ok(!processes.some((p) => p.sqpoll === true && p.deferTaskrun === true));
  });

  it('generates pinning and forking actors', () => {
    const actors = sample.flatMap((s) => s.actors);
    assert.ok(actors.some((a) => a.pin === true) && actors.some((a) => a.pin === false));
    assert.ok(actors.some((a) => a.fork === true) && actors.some((a) => a.fork === false));
  });

  it('the corpus validator accepts every generated scenario and names a bad field', () => {
    for (const s of sample.slice(0, 50)) assert.equal(corpusEntryProblem(entryOf(s)), null);
    const base = sample[0] as Scenario;
    const bad = (processes: unknown, actors: unknown = base.actors) =>
      corpusEntryProblem(entryOf({ ...base, processes, actors } as Scenario));
    assert.match(bad([{ ns: 1, team: 9, privilege: 'god' }]) ?? '', /privilege is not one of/);
    assert.match(
      bad([{ ns: 0, team: 0, sqpoll: true, deferTaskrun: true }]) ?? '',
      /SQPOLL with DEFER_TASKRUN/,
    );
    assert.match(
      bad([{ ns: 0, team: 0 }], [{ ...base.actors[0], process: 0, pin: 'yes' }]) ?? '',
      /pin is not true or false/,
    );
    assert.match(
      bad([{ ns: 0, team: 0 }], [{ ...base.actors[0], process: 0, fork: 1 }]) ?? '',
      /fork is not true or false/,
    );
  });

  it('every generated scenario runs on every design (fuzzed)', () => {
    fc.assert(
      fc.property(scenarioArbitrary(), fc.constantFrom(...DESIGNS), (scenario, design) => {
        const o = simulate(design, scenario);
        return o.outcome.steps > 0;
      }),
      { seed: 8, numRuns: 80 },
    );
  });
});
