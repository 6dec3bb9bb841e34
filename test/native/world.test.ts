// The C world's kernel mechanics, one sequential world at a time through
// the addon: io-wq completions through the submitter's task work, exit
// (exit_files() before exit_task_work(), the task work newest first, the
// per-ctx oops), a parked request that keeps exit waiting, recycled
// requests (the stale result and ops pointer, the ring's residue) and
// programs freed only after their grace period. Skips with the reason when
// the addon is not built.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERRNO } from '../../designs/kernel/errno.js';
import {
  type DesignsAddon,
  type NativeProgramSpec,
  type NativeRegistration,
  type NativeWorld,
  nativeDesigns,
} from '../../native/designs.js';

const native = nativeDesigns();
/** Linux's EDEADLK: what the C world's exit() says when a parked request keeps it waiting for good. */
const EDEADLK = 35;

const full: NativeProgramSpec = { prep: 0, issue: { res: 7, ret: 0 }, fail: true, cleanup: true };

/** Runs `body` on a fresh sequential world of `design`, destroyed afterwards. */
function withWorld(design: string, body: (c: NativeWorld) => void): void {
  assert.ok(native.ok);
  const addon: DesignsAddon = native.addon;
  const c = new addon.NativeWorld(design, 64);
  try {
    body(c);
  } finally {
    c.destroy();
  }
}

function registration(r: NativeRegistration | number): NativeRegistration {
  assert.equal(typeof r, 'object', `registration failed: ${String(r)}`);
  return r as NativeRegistration;
}

function sqe(c: NativeWorld, reg: NativeRegistration, userData: number, async = false) {
  return { ...c.target(reg), async, userData };
}

function program(c: NativeWorld, id: number) {
  const p = c.programs().find((x) => x.id === id);
  assert.ok(p, `program ${id}`);
  return p;
}

describe('the C world, sequentially', { skip: native.ok ? false : native.reason }, () => {
  it('io-wq posts an async request CQE; its free waits for the submitter task work', () => {
    withWorld('per-ctx', (c) => {
      assert.equal(c.setup(0, true), 3);
      assert.equal(c.load(0, full), 4);
      const reg = registration(c.register(0, 4, 3, 0));
      assert.equal(c.submit(0, 3, [sqe(c, reg, 1, true)]), 1);
      assert.deepEqual(c.takeCqes(), [], 'io-wq has not run yet');
      assert.deepEqual(c.takeLog(), [
        { program: 1, callback: 'prep', nullCall: false, freed: false },
      ]);
      c.settle();
      assert.deepEqual(c.takeCqes(), [{ ring: 1, userData: 1, res: 7 }]);
      // issue on the worker, then cleanup in p0's task work (the request's final put).
      assert.deepEqual(
        c.takeLog().map((e) => e.callback),
        ['issue', 'cleanup'],
      );
      assert.equal(c.unregister(0, reg), 0, 'the slot reference was dropped: no wait');
    });
  });

  it('an error on io-wq hands the submitter the whole failure', () => {
    withWorld('global-array', (c) => {
      assert.equal(c.setup(0, true), 3);
      assert.equal(c.load(0, { ...full, issue: { res: 1, ret: -ERRNO.ECANCELED } }), 4);
      const reg = registration(c.register(0, 4, null, 5));
      c.submit(0, 3, [sqe(c, reg, 9, true)]);
      c.settle();
      assert.deepEqual(c.takeCqes(), [{ ring: 1, userData: 9, res: -ERRNO.ECANCELED }]);
      assert.deepEqual(
        c.takeLog().map((e) => e.callback),
        ['prep', 'issue', 'fail'],
      );
    });
  });

  it('a recycled request posts the result its previous user left when the op sets none', () => {
    withWorld('per-ctx', (c) => {
      c.setup(0, true);
      c.load(0, { ...full, issue: null });
      const reg = registration(c.register(0, 4, 3, 0));
      // Slot 5 is empty: prep fails, and the failure sets the request's result.
      c.submit(0, 3, [{ ...sqe(c, reg, 1), bpfOpFlags: 5 << 24 }]);
      // The same request again (the cache is last in first out): no issue_fn, IOU_COMPLETE.
      c.submit(0, 3, [sqe(c, reg, 2)]);
      c.settle();
      assert.deepEqual(c.takeCqes(), [
        { ring: 1, userData: 1, res: -ERRNO.EOPNOTSUPP },
        { ring: 1, userData: 2, res: -ERRNO.EOPNOTSUPP },
      ]);
    });
  });

  it("a fresh request holds the ring's residue: a failed prep calls the stale ops' fail_fn", () => {
    withWorld('per-ctx', (c) => {
      c.load(0, full); // program 1, fd 3
      const ring = c.setup(0, true, { op: 0, ops: 1, res: 42 });
      assert.equal(ring, 4);
      assert.equal(c.close(0, 3), 0, 'program 1 goes');
      c.settle();
      assert.equal(program(c, 1).freed, true, 'freed once its grace period passed');
      const slot: NativeRegistration = { name: { kind: 'id', value: 3 }, linkFd: -1, ringFd: ring };
      c.submit(0, ring, [sqe(c, slot, 1)]);
      c.settle();
      assert.deepEqual(c.takeCqes(), [{ ring: 1, userData: 1, res: -ERRNO.EOPNOTSUPP }]);
      assert.deepEqual(c.takeLog(), [
        { program: 1, callback: 'fail', nullCall: false, freed: true },
      ]);
      const v = c.violations();
      assert.deepEqual([v.freedCalls, v.staleFreedCalls], [1, 1]);
    });
  });

  it('a program stays allocated until the grace period after its last put', () => {
    withWorld('global-array', (c) => {
      c.load(0, full);
      assert.equal(c.close(0, 3), 0);
      assert.deepEqual(
        (({ released, freed, refs }) => ({ released, freed, refs }))(program(c, 1)),
        { released: true, freed: false, refs: 0 },
        'released, not yet freed',
      );
      c.settle();
      assert.equal(program(c, 1).freed, true);
    });
  });

  it('exit runs the __fputs newest first; per-ctx ->unreg() there oopses and the rest never runs', () => {
    withWorld('per-ctx', (c) => {
      c.load(0, full); // program 1, fd 3: released only if its __fput runs
      c.setup(0, true); // ring, fd 4
      c.load(0, full); // program 2, fd 5
      registration(c.register(0, 5, 4, 0)); // link, fd 6
      assert.equal(c.exit(0), 0);
      c.settle();
      // fd 6's __fput ran first (newest first): ->unreg() resolved ring_fd with fget() on
      // current->files, NULL since exit_files().
      assert.equal(c.violations().nullDerefs, 1);
      assert.equal(program(c, 1).released, false, "fd 3's __fput never ran");
      assert.deepEqual(
        (({ released, refs }) => ({ released, refs }))(program(c, 2)),
        { released: false, refs: 2 },
        'neither the link nor the fd dropped program 2',
      );
      assert.equal(c.exit(0), -ERRNO.ESRCH, 'the process is gone');
      assert.equal(c.load(0, full), -ERRNO.ESRCH);
    });
  });

  it('exit of a global design unregisters through the same __fputs, without an oops', () => {
    withWorld('global-array', (c) => {
      c.setup(0, true);
      c.load(0, full);
      const reg = registration(c.register(0, 4, null, 9));
      assert.deepEqual(c.discover(1), [9]);
      assert.equal(c.exit(0), 0);
      c.settle();
      assert.deepEqual(c.discover(1), []);
      assert.equal(c.violations().nullDerefs, 0);
      assert.deepEqual((({ freed, refs }) => ({ freed, refs }))(program(c, 1)), {
        freed: true,
        refs: 0,
      });
      void reg;
    });
  });

  it('exit waits for its requests; a parked one keeps it waiting for good (-EDEADLK)', () => {
    withWorld('global-array', (c) => {
      c.setup(0, true);
      c.load(0, { ...full, issue: { res: 0, ret: -ERRNO.EIOCBQUEUED } });
      const reg = registration(c.register(0, 4, null, 1));
      c.submit(0, 3, [sqe(c, reg, 1, true)]);
      // Not settled: exit itself lets io-wq run, which parks the request.
      assert.equal(c.exit(0), -EDEADLK);
      assert.deepEqual(
        c.fds(0).map((f) => f.fd),
        [3, 4, 5],
        'stuck before exit_files()',
      );
      assert.equal(c.close(0, 3), -ERRNO.ESRCH, 'and makes no more syscalls');
    });
  });
});
