// The greedy minimizer removes what a failure does not need and keeps what
// it does, and the violating step is the step at which the property's
// failure shows: the out-of-bounds access itself, or the last step for a
// property about the end of the run.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findDesign } from '../../designs/registry.js';
import { explain } from '../../fuzz/engine.js';
import { minimize, type Runner, violationStep } from '../../fuzz/minimize.js';
import { CHECKS } from '../../fuzz/properties.js';
import type { ActorPlan, Scenario } from '../../fuzz/scenario.js';
import { simulate } from '../../fuzz/simulate.js';

function runnerFor(name: string): Runner {
  const found = findDesign(name);
  assert.ok(found.ok);
  return (s, maxSteps) => simulate(found.design, s, [], maxSteps);
}

const program = { prep: 0, issueRet: 0, issueRes: 0, fail: false, cleanup: true };
const actor = (process: number, protocol: ActorPlan['protocol'], id: number, requests = 1) => ({
  process,
  protocol,
  id,
  program,
  requests: Array.from({ length: requests }, () => false),
  extra: 0,
});

/**
 * A service process with two threads that register and submit, and a
 * hostile process whose id 300 is past global-array's 256-entry table: the
 * bounds failure is the hostile's alone, the services are bystanders.
 */
const withBystanders: Scenario = {
  processes: [
    { ns: 0, team: 0 },
    { ns: 1, team: 9 },
  ],
  actors: [actor(0, 'exclusive', 1, 3), actor(1, 'hostile', 300, 2), actor(0, 'exclusive', 2, 2)],
  priorities: [1, 2, 10, 20, 30],
  changes: [40, 90],
};

describe('greedy minimizer', () => {
  const run = runnerFor('global-array');
  const check = CHECKS.bounds;
  const fails = (s: Scenario) => check(run(s)) !== null;

  it('drops the bystander actors and their process; the failure stays', () => {
    assert.ok(fails(withBystanders), 'the starting scenario fails');
    const { scenario, removed } = minimize(withBystanders, fails, run);
    assert.ok(fails(scenario), 'the minimized scenario still fails');
    assert.equal(scenario.actors.length, 1);
    assert.equal(scenario.actors[0]?.protocol, 'hostile');
    assert.equal(scenario.actors[0]?.id, 300);
    assert.equal(scenario.actors[0]?.process, 0, 'renumbered to the only process left');
    assert.deepEqual(scenario.processes, [{ ns: 1, team: 9 }]);
    assert.ok(removed >= 3, `removed ${removed}`);
  });

  it('takes each removed actor and process out of the priorities by creation order', () => {
    // Only the hostile actor matters here (a predicate on the scenario), so every step is forced.
    const hostileThere = (s: Scenario) => s.actors.some((a) => a.id === 300);
    const { scenario } = minimize(withBystanders, hostileThere, run);
    // Creation order: setup of p0, setup of p1, a0, a1 (the hostile), a2. Left: p1's setup and a1.
    assert.deepEqual(scenario.priorities, [2, 20]);
    assert.deepEqual(scenario.changes, []);
    assert.deepEqual(
      scenario.actors.map((a) => a.requests.length),
      [1],
    );
  });

  it('keeps what the failure needs', () => {
    // A made-up failure that needs the hostile actor and three requests in all.
    const needs = (s: Scenario) =>
      s.actors.some((a) => a.id === 300) &&
      s.actors.reduce((n, a) => n + a.requests.length, 0) >= 3;
    const { scenario } = minimize(withBystanders, needs, run);
    assert.ok(needs(scenario));
    assert.equal(
      scenario.actors.reduce((n, a) => n + a.requests.length, 0),
      3,
    );
  });

  it('stops at its budget with a scenario that still fails', () => {
    const { scenario, runs } = minimize(withBystanders, fails, run, 2);
    assert.equal(runs, 2);
    assert.ok(fails(scenario));
  });
});

describe('violating step', () => {
  const run = runnerFor('global-array');
  const hostileOnly: Scenario = {
    processes: [{ ns: 1, team: 9 }],
    actors: [actor(0, 'hostile', 300, 1)],
    priorities: [],
    changes: [],
  };

  it('is the step of the out-of-bounds access for bounds', () => {
    const o = run(hostileOnly);
    const access = o.m.world.trace.ofKind('out-of-bounds')[0];
    assert.ok(access !== undefined);
    const step = violationStep(hostileOnly, CHECKS.bounds, run);
    assert.equal(step, access.step);
    assert.ok(step !== null && step < o.m.scheduler.history.length - 1, 'not simply the last');
  });

  it('is the last step for a property about the end of the run', () => {
    const atEnd = (o: ReturnType<Runner>) => (o.outcome.kind === 'done' ? 'ended' : null);
    const steps = run(hostileOnly).m.scheduler.history.length;
    assert.equal(violationStep(hostileOnly, atEnd, run), steps - 1);
  });

  it("is the step where the message is the whole run's, not where a cut run looks unfinished", () => {
    // A cut-off run always fails this check, with another message than the whole run.
    const unfinished = (o: ReturnType<Runner>) =>
      o.outcome.kind === 'done' ? 'finished' : 'never finished';
    const steps = run(hostileOnly).m.scheduler.history.length;
    assert.equal(violationStep(hostileOnly, unfinished, run), steps - 1);
  });

  it('is null when the property holds, and explain() carries it', () => {
    const inBounds = { ...hostileOnly, actors: [actor(0, 'hostile', 3, 1)] };
    assert.equal(violationStep(inBounds, CHECKS.bounds, run), null);
    const why = explain('global-array', 'bounds', hostileOnly);
    assert.ok(why !== null);
    assert.equal(why.violationStep, violationStep(hostileOnly, CHECKS.bounds, run));
    assert.equal(why.steps.length, run(hostileOnly).m.scheduler.history.length);
  });
});
