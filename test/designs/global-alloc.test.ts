// D6 global-alloc: the control design with kernel-allocated ids.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Registration } from '../../designs/design.js';
import { globalAlloc } from '../../designs/global-alloc.js';
import type { Result } from '../../designs/kernel/errno.js';
import { programSpec } from '../../designs/world.js';
import { registered, setup, submitAndSettle, unwrap } from '../helpers.js';

describe('global-alloc', () => {
  it('hands out ids itself, ignoring any id userspace asks for', () => {
    const s = registered(globalAlloc, programSpec('a'), 4000);
    assert.deepEqual(s.reg.name, { kind: 'id', id: 0 });
    const b = unwrap(s.m.run(s.proc, s.m.world.loadProgram(s.proc, programSpec('b'))));
    const r = unwrap(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: b, id: 0 })));
    assert.deepEqual(r.name, { kind: 'id', id: 1 });
  });

  it('does not hand a freed id out again at once (cyclic allocation)', () => {
    const s = registered(globalAlloc);
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
    const r = unwrap(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd })));
    assert.deepEqual(r.name, { kind: 'id', id: 1 });
    assert.equal(submitAndSettle({ ...s, reg: r }, 1), 0);
  });

  it('has no discovery: userspace never chooses an id', () => {
    assert.equal(registered(globalAlloc).m.ops.discover, null);
  });
});

describe('global-alloc interleavings', () => {
  it('gives two racing registrations distinct ids', () => {
    const s = setup(globalAlloc);
    const b = unwrap(s.m.run(s.proc, s.m.world.loadProgram(s.proc, programSpec('b'))));
    const r1 = s.m.scheduler.add('r1', s.m.ops.register(s.proc, { progFd: s.progFd }), s.proc);
    const r2 = s.m.scheduler.add('r2', s.m.ops.register(s.proc, { progFd: b }), s.proc);
    assert.equal(s.m.scheduler.run(Array.from({ length: 40 }, (_, i) => i % 2)).kind, 'done');
    const ids = [r1.result, r2.result].map((r) => unwrap(r as Result<Registration>).name);
    assert.deepEqual(ids.map((n) => (n.kind === 'id' ? n.id : -1)).sort(), [0, 1]);
  });
});
