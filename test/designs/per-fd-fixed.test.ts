// D5 per-fd-fixed: the program fd in the ring's fixed-file table.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { neg } from '../../designs/kernel/errno.js';
import { perFdFixed } from '../../designs/per-fd-fixed.js';
import { programSpec } from '../../designs/world.js';
import { callbacksOf, errnoOf, registered, setup, submitAndSettle, unwrap } from '../helpers.js';

describe('per-fd-fixed register', () => {
  it('installs into the slot asked for, or the first free one', () => {
    const s = registered(perFdFixed, programSpec('p'), 5);
    assert.deepEqual(s.reg.name, { kind: 'fixed', index: 5 });
    const r = unwrap(
      s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd, ringFd: s.ringFd })),
    );
    assert.deepEqual(r.name, { kind: 'fixed', index: 0 });
  });

  it('fails a slot out of range with EINVAL, a bad fd with EBADF, a ring fd with EBADF', () => {
    const s = setup(perFdFixed);
    const reg = (progFd: number, id?: number) =>
      s.m.run(
        s.proc,
        s.m.ops.register(
          s.proc,
          id === undefined ? { progFd, ringFd: s.ringFd } : { progFd, ringFd: s.ringFd, id },
        ),
      );
    assert.equal(errnoOf(reg(s.progFd, 64)), 'EINVAL');
    assert.equal(errnoOf(reg(99, 1)), 'EBADF');
    assert.equal(errnoOf(reg(s.ringFd, 1)), 'EBADF');
    assert.equal(
      errnoOf(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd, ringFd: 99 }))),
      'EBADF',
    );
  });

  it('fails with ENFILE when no slot is free', () => {
    const s = setup(perFdFixed);
    for (let i = 0; i < 64; i++)
      unwrap(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd, ringFd: s.ringFd })));
    assert.equal(
      errnoOf(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd, ringFd: s.ringFd }))),
      'ENFILE',
    );
  });
});

describe('per-fd-fixed requests', () => {
  it('fails an empty slot with EBADF and a non-program file with EINVAL', () => {
    const s = registered(perFdFixed);
    assert.equal(
      submitAndSettle({ ...s, reg: { ...s.reg, name: { kind: 'fixed', index: 9 } } }, 1),
      neg('EBADF'),
    );
    const other = unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: false })));
    // A second ring's fd is a file io_uring refuses to register; a link file is accepted but is no program.
    assert.equal(
      errnoOf(
        s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: other, ringFd: s.ringFd, id: 2 })),
      ),
      'EBADF',
    );
  });

  it('still accepts a plain fd without IOSQE_FIXED_FILE', () => {
    const s = registered(perFdFixed);
    assert.equal(
      submitAndSettle({ ...s, reg: { ...s.reg, name: { kind: 'fd', fd: s.progFd } } }, 1),
      0,
    );
  });
});

describe('per-fd-fixed unregister', () => {
  it('clears the slot; clearing it again is not an error', () => {
    const s = registered(perFdFixed);
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
    assert.equal(submitAndSettle(s, 1), neg('EBADF'));
  });

  it('keeps the program alive through the retired node while a request is in flight', () => {
    const s = registered(perFdFixed);
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.progFd))); // the table's node holds the file now
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 1, true))));
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
    assert.equal(s.m.world.programs[0]?.freed, false, 'the request holds the node');
    assert.equal(s.m.settle().kind, 'done');
    assert.deepEqual(callbacksOf(s.m, 1), ['prep:prog1', 'issue:prog1', 'cleanup:prog1']);
    assert.equal(s.m.world.programs[0]?.freed, true);
  });
});
