// D4 per-fd: the program's file descriptor names it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IOU_ISSUE_SKIP_COMPLETE } from '../../designs/io-uring.js';
import { neg } from '../../designs/kernel/errno.js';
import { Machine } from '../../designs/machine.js';
import { perFd } from '../../designs/per-fd.js';
import { programSpec } from '../../designs/world.js';
import {
  callbacksOf,
  errnoOf,
  registered,
  setup,
  stepUntil,
  submitAndSettle,
  unwrap,
} from '../helpers.js';

describe('per-fd requests', () => {
  it('fails a closed fd with EBADF and a non-program fd with EINVAL', () => {
    const s = registered(perFd);
    assert.equal(
      submitAndSettle({ ...s, reg: { ...s.reg, name: { kind: 'fd', fd: 42 } } }, 1),
      neg('EBADF'),
    );
    assert.equal(
      submitAndSettle({ ...s, reg: { ...s.reg, name: { kind: 'fd', fd: s.ringFd } } }, 2),
      neg('EINVAL'),
    );
  });

  it('fails prep with EOPNOTSUPP without a prep_fn and turns SKIP_COMPLETE into EINVAL', () => {
    assert.equal(
      submitAndSettle(registered(perFd, programSpec('p', { prep: null })), 1),
      neg('EOPNOTSUPP'),
    );
    const skip = programSpec('p', { issue: { res: 0, ret: IOU_ISSUE_SKIP_COMPLETE } });
    assert.equal(submitAndSettle(registered(perFd, skip), 1), neg('EINVAL'));
  });

  it('looks the fd up in the submitter: a program passed by SCM_RIGHTS works under its new number', () => {
    const s = registered(perFd);
    const peer = s.m.world.createProcess({ name: 'peer' });
    const peerRing = unwrap(s.m.run(peer, s.m.uring.setup(peer, { bpf: false })));
    unwrap(s.m.run(peer, s.m.uring.setup(peer, { bpf: false }))); // a second fd, so the numbers differ
    const passed = unwrap(s.m.run(s.proc, s.m.world.passFd(s.proc, s.progFd, peer)));
    assert.notEqual(passed, s.progFd);
    unwrap(s.m.run(peer, s.m.uring.submit(peer, peerRing, s.m.sqe({ kind: 'fd', fd: passed }, 1))));
    assert.deepEqual(callbacksOf(s.m, 1).slice(0, 2), ['prep:prog1', 'issue:prog1']);
  });

  it('refuses a ring created with a BPF setup flag: the design has none', () => {
    const m = new Machine(perFd);
    const p = m.world.createProcess();
    assert.equal(errnoOf(m.run(p, m.uring.setup(p, { bpf: true }))), 'EINVAL');
  });
});

describe('per-fd unregister', () => {
  it('is close(): closing twice fails with EBADF', () => {
    const s = registered(perFd);
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
    assert.equal(errnoOf(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg))), 'EBADF');
  });

  it('keeps the program alive for a request in flight when its fd is closed', () => {
    const s = setup(perFd);
    const sub = s.m.scheduler.add(
      'sub',
      s.m.uring.submit(s.proc, s.ringFd, s.m.sqe({ kind: 'fd', fd: s.progFd }, 1, true)),
      s.proc,
    );
    stepUntil(s.m, sub, 'prep_fn'); // fget done, reference held
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.progFd)));
    assert.equal(s.m.world.programs[0]?.freed, false);
    assert.equal(s.m.settle().kind, 'done');
    assert.deepEqual(callbacksOf(s.m, 1), ['prep:prog1', 'issue:prog1', 'cleanup:prog1']);
    assert.ok(s.m.world.trace.ofKind('callback').every((e) => !e.event.freed));
    assert.equal(s.m.world.programs[0]?.freed, true, 'freed with the request');
  });
});
