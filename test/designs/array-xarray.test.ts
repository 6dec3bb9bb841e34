// D2 array-xarray: Ming's counter-proposal.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arrayXarray } from '../../designs/array-xarray.js';
import { neg } from '../../designs/kernel/errno.js';
import { programSpec } from '../../designs/world.js';
import {
  callbacksOf,
  errnoOf,
  finish,
  registered,
  setup,
  stepUntil,
  submitAndSettle,
  unwrap,
} from '../helpers.js';

describe('array-xarray', () => {
  it('keeps ids below 256 in the array and the rest in the xarray', () => {
    for (const [id, table] of [
      [255, 'bpf_ops[256]'],
      [256, 'bpf_ops_xa'],
      [65535, 'bpf_ops_xa'],
    ] as const) {
      const s = registered(arrayXarray, programSpec('p', { issue: { res: id, ret: 0 } }), id);
      assert.equal(submitAndSettle(s, 1), id);
      const reads = s.m.world.trace.ofKind('slot-read').map((e) => e.event.table);
      assert.ok(
        reads.every((t) => t === table),
        `id ${id} lives in ${table}`,
      );
    }
  });

  it('puts the id in the top 16 bits of bpf_op_flags', () => {
    const s = setup(arrayXarray);
    assert.equal(s.m.ops.target({ kind: 'id', id: 0x1234 }).bpfOpFlags, 0x12340000);
  });

  it('rejects ids that do not fit 16 bits with EINVAL, and an empty id with EOPNOTSUPP at prep', () => {
    const s = registered(arrayXarray, programSpec('p'), 300);
    assert.equal(
      errnoOf(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd, id: 65536 }))),
      'EINVAL',
    );
    assert.equal(
      submitAndSettle({ ...s, reg: { ...s.reg, name: { kind: 'id', id: 301 } } }, 1),
      neg('EOPNOTSUPP'),
    );
  });

  it('lists used ids to anyone, so a hostile process can take the id a victim just chose', () => {
    const s = setup(arrayXarray);
    const discover = s.m.ops.discover;
    assert.ok(discover);
    const hostile = s.m.world.createProcess({ name: 'hostile', ns: 1 });
    const evil = unwrap(s.m.run(hostile, s.m.world.loadProgram(hostile, programSpec('evil'))));
    // The victim looks for a free dynamic id...
    const used = unwrap(s.m.run(s.proc, discover(s.proc)));
    const chosen = 256 + used.filter((id) => id >= 256).length;
    // ...the hostile process looks too and registers the same id first.
    const seen = unwrap(s.m.run(hostile, discover(hostile)));
    assert.deepEqual(seen, used);
    unwrap(s.m.run(hostile, s.m.ops.register(hostile, { progFd: evil, id: chosen })));
    const victim = s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd, id: chosen }));
    assert.equal(errnoOf(victim), 'EBUSY');
    // A caller that reads EBUSY as "a sibling registered it" now submits to the hostile program.
    const res = submitAndSettle(
      { ...s, reg: { name: { kind: 'id', id: chosen }, linkFd: null, ringFd: null } },
      1,
    );
    assert.equal(res, 0);
    assert.deepEqual(
      s.m.world.trace.ofKind('callback').map((e) => e.event.program),
      [2, 2],
      'prep and issue of the hostile program (prog2)',
    );
  });
});

describe('array-xarray interleavings', () => {
  it('serialises two registrations of one id on the global mutex: the second gets EBUSY', () => {
    const s = setup(arrayXarray);
    const other = s.m.world.createProcess({ name: 'other' });
    const otherProg = unwrap(s.m.run(other, s.m.world.loadProgram(other, programSpec('other'))));
    const a = s.m.scheduler.add(
      'a',
      s.m.ops.register(s.proc, { progFd: s.progFd, id: 4000 }),
      s.proc,
    );
    const b = s.m.scheduler.add(
      'b',
      s.m.ops.register(other, { progFd: otherProg, id: 4000 }),
      other,
    );
    // Alternate strictly: both reach the global mutex; a takes it, b waits until a has unlocked.
    const outcome = s.m.scheduler.run(Array.from({ length: 40 }, (_, i) => i % 2));
    assert.equal(outcome.kind, 'done');
    assert.deepEqual([a.result, b.result].map((r) => (r as { ok: boolean }).ok).sort(), [
      false,
      true,
    ]);
    const locks = s.m.world.trace
      .ofKind('lock')
      .filter((e) => e.event.lock === 'uring_bpf_ctx_lock');
    const unlocks = s.m.world.trace
      .ofKind('unlock')
      .filter((e) => e.event.lock === 'uring_bpf_ctx_lock');
    assert.ok(
      (locks[2]?.seq ?? 0) > (unlocks[1]?.seq ?? Infinity),
      'the second holder came after the first let go',
    );
  });
});

describe('array-xarray torn reads', () => {
  it('writes a registration into the array member by member, into the xarray as one pointer', () => {
    for (const [id, writes] of [
      [7, ['id', 'prep_fn', 'issue_fn', 'fail_fn', 'cleanup_fn']],
      [300, [undefined]],
    ] as const) {
      const s = registered(arrayXarray, programSpec('p'), id);
      const seen = s.m.world.trace
        .ofKind('slot-write')
        .filter((e) => e.event.index === id)
        .map((e) => e.event.field);
      assert.deepEqual(seen, writes, `id ${id}`);
    }
  });

  it('loads an xarray entry once: zeroing it between the test and the call leaves the call on the old program', () => {
    for (const [id, nullCalls, calls] of [
      [7, 1, ['prep:prog1']],
      [300, 0, ['prep:prog1', 'issue:prog1']],
    ] as const) {
      const s = registered(arrayXarray, programSpec('p'), id);
      unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 1, true))));
      const worker = s.m.scheduler.actors.find((a) => a.name.startsWith('iowq:'));
      assert.ok(worker);
      stepUntil(s.m, worker, 'issue_fn: load');
      const unreg = s.m.scheduler.add('unreg', s.m.ops.unregister(s.proc, s.reg), s.proc);
      stepUntil(s.m, unreg, 'synchronize_srcu(uring_bpf_srcu): grace period');
      finish(s.m, worker);
      assert.equal(s.m.world.trace.ofKind('null-call').length, nullCalls, `id ${id}`);
      assert.deepEqual(callbacksOf(s.m, 1), calls, `id ${id}`);
      assert.equal(s.m.settle().kind, 'done');
      assert.ok(s.m.world.trace.ofKind('callback').every((e) => !e.event.freed));
    }
  });
});
