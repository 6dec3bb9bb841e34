// Who may do what (issue 14 part 2): loading a struct_ops map and its
// programs checks the kernel's capabilities (CAP_BPF and CAP_PERFMON in
// init_user_ns, or through a BPF token in the loader's userns); creating a
// ring and submitting check none; a scenario's hostile process gets one of
// four privileges, absent meaning what it had before; verdicts name what
// the attacker held and needed, from what it did in the run.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { globalArray } from '../../designs/global-array.js';
import {
  bpfTokenCreate,
  type Capability,
  type Creds,
  credsFor,
  legacyCreds,
  NO_PRIVILEGE,
  PRIVILEGES,
  structOpsLoad,
} from '../../designs/kernel/creds.js';
import { Machine } from '../../designs/machine.js';
import { perCtx } from '../../designs/per-ctx.js';
import { programSpec } from '../../designs/world.js';
import { CHECKS } from '../../fuzz/properties.js';
import {
  type ActorPlan,
  processCreds,
  type Scenario,
  scenarioArbitrary,
} from '../../fuzz/scenario.js';
import { simulate } from '../../fuzz/simulate.js';
import { errnoOf, unwrap } from '../helpers.js';

const caps = (...c: Capability[]) => new Set<Capability>(c);
const creds = (userns: number, c: Set<Capability>, token: Creds['token'] = null): Creds => ({
  userns,
  caps: c,
  token,
});

describe('credentials: struct_ops load (kernel/bpf/syscall.c, token.c)', () => {
  it('needs CAP_BPF and CAP_PERFMON in init_user_ns without a token', () => {
    assert.deepEqual(structOpsLoad(creds(0, caps('CAP_BPF', 'CAP_PERFMON'))), { kind: 'init' });
    assert.equal(structOpsLoad(creds(0, caps('CAP_BPF'))), 'EPERM', 'struct_ops is a perfmon type');
    assert.equal(structOpsLoad(creds(0, caps('CAP_PERFMON'))), 'EPERM');
    assert.deepEqual(structOpsLoad(creds(0, caps('CAP_SYS_ADMIN'))), { kind: 'init' });
  });

  it('root in a child userns cannot load without a token; with one delegating struct_ops it can', () => {
    const root = caps('CAP_SYS_ADMIN', 'CAP_BPF', 'CAP_PERFMON');
    assert.equal(structOpsLoad(creds(1, root)), 'EPERM');
    const token = bpfTokenCreate(1, root, true);
    assert.ok(typeof token !== 'string');
    assert.deepEqual(structOpsLoad(creds(1, root, token)), { kind: 'token', userns: 1 });
    // A token whose mount does not delegate struct_ops is ignored: back to init_user_ns, EPERM.
    assert.equal(structOpsLoad(creds(1, root, { userns: 1, structOps: false })), 'EPERM');
    // A token in userns 1 is no use to a process without capabilities there.
    assert.equal(structOpsLoad(creds(1, caps(), { userns: 1, structOps: true })), 'EPERM');
  });

  it('BPF_TOKEN_CREATE: not in init_user_ns, needs CAP_BPF in the userns and some delegation', () => {
    assert.equal(bpfTokenCreate(0, caps('CAP_BPF'), true), 'EOPNOTSUPP');
    assert.equal(bpfTokenCreate(1, caps(), true), 'EPERM');
    assert.equal(bpfTokenCreate(1, caps('CAP_BPF'), false), 'ENOENT');
    assert.deepEqual(bpfTokenCreate(1, caps('CAP_BPF'), true), { userns: 1, structOps: true });
  });

  it('the four privileges: only cap-bpf-init and token load', () => {
    const loads = PRIVILEGES.map((p) => [p, structOpsLoad(credsFor(1, p))]);
    assert.deepEqual(loads, [
      ['cap-bpf-init', { kind: 'init' }],
      ['token', { kind: 'token', userns: 1 }],
      ['userns-root', 'EPERM'],
      ['none', 'EPERM'],
    ]);
  });

  it('ProcessOptions.capBpf keeps its meaning: namespace 0 in init_user_ns, others a token', () => {
    assert.deepEqual(structOpsLoad(legacyCreds(0, true)), { kind: 'init' });
    assert.deepEqual(structOpsLoad(legacyCreds(1, true)), { kind: 'token', userns: 1 });
    assert.equal(structOpsLoad(legacyCreds(0, false)), 'EPERM');
  });
});

describe('World: load checks the credentials; ring setup and submit check none', () => {
  for (const design of [globalArray, perCtx]) {
    it(`${design.name}: an unprivileged process creates a ring and submits, but cannot load`, () => {
      const m = new Machine(design);
      const proc = m.world.createProcess({ name: 'nobody', ns: 1, creds: credsFor(1, 'none') });
      const ringFd = unwrap(m.run(proc, m.uring.setup(proc, { bpf: true })));
      assert.equal(errnoOf(m.run(proc, m.world.loadProgram(proc, programSpec('x')))), 'EPERM');
      const req = unwrap(
        m.run(proc, m.uring.submit(proc, ringFd, m.sqe({ kind: 'id', id: 0 }, 1))),
      );
      m.settle();
      // The request ran through prep and failed there (no program at id 0): a CQE, no privilege needed.
      assert.ok(m.world.trace.ofKind('cqe').some((e) => e.event.request === req));
    });
  }

  it('records what let a program load', () => {
    const m = new Machine(globalArray);
    const init = m.world.createProcess({ creds: credsFor(0, 'cap-bpf-init') });
    const tok = m.world.createProcess({ ns: 1, creds: credsFor(1, 'token') });
    unwrap(m.run(init, m.world.loadProgram(init, programSpec('a'))));
    unwrap(m.run(tok, m.world.loadProgram(tok, programSpec('b'))));
    assert.deepEqual(
      m.world.programs.map((p) => p.loadedWith),
      [{ kind: 'init' }, { kind: 'token', userns: 1 }],
    );
    assert.equal(tok.ns, 1);
    assert.equal(init.creds.userns, 0);
  });
});

const program = { prep: 0, issueRet: 0, issueRes: 0, fail: true, cleanup: true };
const actor = (process: number, protocol: ActorPlan['protocol'], id = 0): ActorPlan => ({
  process,
  protocol,
  id,
  program,
  requests: [false],
  extra: 0,
});

describe('scenarios: the hostile process privilege', () => {
  it('absent reproduces the old credentials (corpus files replay unchanged)', () => {
    assert.deepEqual(processCreds({ ns: 0, team: 0 }), legacyCreds(0, true));
    assert.deepEqual(processCreds({ ns: 1, team: 9 }), legacyCreds(1, true));
    assert.deepEqual(processCreds({ ns: 1, team: 9 }), credsFor(1, 'token'));
  });

  it('generates every privilege for hostile processes, none for services', () => {
    const processes = fc
      .sample(scenarioArbitrary(), { seed: 5, numRuns: 400 })
      .flatMap((s) => s.processes);
    const seen = new Set(processes.filter((p) => p.ns === 1).map((p) => p.privilege));
    assert.deepEqual([...seen].sort(), [...PRIVILEGES].sort());
    assert.ok(processes.filter((p) => p.ns === 0).every((p) => p.privilege === undefined));
  });

  it('a hostile process that cannot load never owns a program (fuzzed)', () => {
    fc.assert(
      fc.property(scenarioArbitrary(), (scenario) => {
        const o = simulate(globalArray, scenario);
        for (const [i, p] of scenario.processes.entries()) {
          if (p.privilege !== 'userns-root' && p.privilege !== 'none') continue;
          const pid = o.m.world.processes[i]?.pid;
          if (o.m.world.programs.some((prog) => prog.ownerPid === pid)) return false;
        }
        return true;
      }),
      { seed: 3, numRuns: 60 },
    );
  });
});

/** A service (shared-by-id at id 0, which never unregisters) and a hostile process with `privilege`. */
function sharedAndHostile(privilege: (typeof PRIVILEGES)[number], hostileFirst: boolean): Scenario {
  return {
    processes: [
      { ns: 0, team: 0 },
      { ns: 1, team: 9, privilege },
    ],
    actors: [actor(0, 'shared-by-id'), actor(1, 'hostile')],
    // Setup actors (one per process) come first in creation order.
    priorities: hostileFirst ? [0, 0, 1, 100] : [0, 0, 100, 1],
    changes: [],
  };
}

describe('verdicts name what the attacker held and needed', () => {
  it('an unprivileged process that only submits runs the service program (global-array)', () => {
    const o = simulate(globalArray, sharedAndHostile('none', false));
    const message = CHECKS.hijack(o);
    assert.ok(message !== null, 'a global id reaches another process');
    assert.match(message, /the submitter p1-hostile only submitted an SQE/);
    assert.match(message, /held: no capability \(userns 1\)/);
    assert.ok(message.endsWith(`needed: ${NO_PRIVILEGE}`), message);
  });

  it('the same attacker without privilege is harmless on per-ctx (its ring has no programs)', () => {
    assert.equal(CHECKS.hijack(simulate(perCtx, sharedAndHostile('none', false))), null);
  });

  for (const [privilege, needed] of [
    ['cap-bpf-init', 'CAP_BPF and CAP_PERFMON in init_user_ns'],
    ['token', 'a BPF token in userns 1 (CAP_BPF and CAP_PERFMON there)'],
  ] as const) {
    it(`a hostile ${privilege} that registers first: "needed: ${needed}"`, () => {
      const o = simulate(globalArray, sharedAndHostile(privilege, true));
      const hijack = CHECKS.hijack(o);
      assert.ok(hijack !== null);
      assert.match(hijack, /prog1's owner p1-hostile loaded it/);
      assert.ok(hijack.endsWith(`needed: ${needed}`), hijack);
    });
  }

  it('isolation names the loader of the program that held the slot', () => {
    const message = CHECKS.isolation(simulate(globalArray, sharedAndHostile('cap-bpf-init', true)));
    assert.ok(message !== null);
    assert.match(message, /held prog1 of namespace 1; prog1's owner p1-hostile loaded it/);
    assert.match(message, /held: CAP_BPF\+CAP_PERFMON in init_user_ns/);
    assert.ok(message.endsWith('needed: CAP_BPF and CAP_PERFMON in init_user_ns'), message);
  });

  it('root in its userns only cannot load, so cannot take a slot', () => {
    const o = simulate(globalArray, sharedAndHostile('userns-root', true));
    assert.equal(CHECKS.isolation(o), null);
    assert.deepEqual(
      o.log.registers.map((r) => r.errno),
      [null],
      'only the service registers',
    );
  });
});
