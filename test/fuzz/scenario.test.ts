// Scenario generation and setup: each process chooses how its rings are
// created (with or without the design's setup flag, with DEFER_TASKRUN or
// not), simulate() creates them that way, and the restart protocol's new
// ring keeps its process's choice.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { globalArray } from '../../designs/global-array.js';
import { perCtx } from '../../designs/per-ctx.js';
import { perFd } from '../../designs/per-fd.js';
import {
  type ProcessPlan,
  ringOptions,
  type Scenario,
  scenarioArbitrary,
} from '../../fuzz/scenario.js';
import { simulate } from '../../fuzz/simulate.js';

const program = { prep: 0, issueRet: 0, issueRes: 0, fail: true, cleanup: true };

describe('scenario generation', () => {
  const processes = fc
    .sample(scenarioArbitrary(), { seed: 13, numRuns: 300 })
    .flatMap((s) => s.processes);

  it('makes most rings with the setup flag and some without', () => {
    const unflagged = processes.filter((p) => p.flagged === false).length;
    const flagged = processes.filter((p) => p.flagged === true).length;
    assert.equal(unflagged + flagged, processes.length, 'every process says');
    assert.ok(unflagged > 0, 'some rings lack the flag');
    assert.ok(flagged > 2 * unflagged, `most rings have it (${flagged} to ${unflagged})`);
  });

  it('makes some rings with DEFER_TASKRUN, hostile processes included', () => {
    assert.ok(processes.some((p) => p.deferTaskrun === true));
    assert.ok(processes.some((p) => p.deferTaskrun === false));
    assert.ok(processes.some((p) => p.ns === 1 && p.flagged === false));
  });
});

describe('ring options of a process', () => {
  const plan = (over: Partial<ProcessPlan>): ProcessPlan => ({ ns: 0, team: 0, ...over });

  it('follows the process where the design has a setup flag', () => {
    assert.deepEqual(ringOptions(perCtx, plan({ flagged: false, deferTaskrun: true })), {
      bpf: false,
      deferTaskrun: true,
    });
    assert.deepEqual(ringOptions(perCtx, plan({ flagged: true })), {
      bpf: true,
      deferTaskrun: false,
    });
  });

  it('never sets a flag the design does not have', () => {
    assert.equal(ringOptions(perFd, plan({ flagged: true })).bpf, false);
  });

  it('reads a process saved before the choice existed as flagged, without DEFER_TASKRUN', () => {
    assert.deepEqual(ringOptions(globalArray, plan({})), { bpf: true, deferTaskrun: false });
  });
});

describe('simulate', () => {
  it('creates each process ring as the scenario says', () => {
    const scenario: Scenario = {
      processes: [
        { ns: 0, team: 0, flagged: false, deferTaskrun: true },
        { ns: 0, team: 1, flagged: true, deferTaskrun: false },
      ],
      actors: [],
      priorities: [0],
      changes: [],
    };
    const rings = simulate(globalArray, scenario).m.world.rings;
    assert.deepEqual(
      rings.map((r) => [r.bpf, r.deferTaskrun]),
      [
        [false, true],
        [true, false],
      ],
    );
  });

  it('gives the restarted server a new ring made the way its process chose', () => {
    const scenario: Scenario = {
      processes: [{ ns: 0, team: 0, flagged: false, deferTaskrun: true }],
      actors: [
        { process: 0, protocol: 'restart', id: 1, program, requests: [false, false], extra: 0 },
      ],
      priorities: [0],
      changes: [],
    };
    const o = simulate(globalArray, scenario);
    assert.equal(o.outcome.kind, 'done');
    const rings = o.m.world.rings;
    assert.equal(rings.length, 2, 'the restart made a second ring');
    assert.deepEqual(
      rings.map((r) => [r.owner.name, r.bpf, r.deferTaskrun]),
      [
        ['p0', false, true],
        ['p0-restarted', false, true],
      ],
    );
    // Without the flag every request fails with EACCES, on both rings.
    assert.ok(rings.every((r) => r.cq.length > 0 && r.cq.every((c) => c.res === -13)));
  });
});
