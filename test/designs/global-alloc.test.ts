// D6 global-alloc: the control design with kernel-allocated ids.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globalAlloc } from '../../designs/global-alloc.js';
import { programSpec } from '../../designs/world.js';
import { registered, submitAndSettle, unwrap } from '../helpers.js';

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
