// Behaviour every design shares, checked over the whole registry: the
// sequential happy path inline and on io-wq, clean failure once the program
// is unregistered, and the errno of each bad input every caller can make.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { neg } from '../../designs/kernel/errno.js';
import { DESIGNS } from '../../designs/registry.js';
import { programSpec } from '../../designs/world.js';
import {
  argsFor,
  callbacksOf,
  errnoOf,
  registered,
  setup,
  submitAndSettle,
  unwrap,
} from '../helpers.js';

/** The CQE a request gets once its program is unregistered, per design family. */
const AFTER_UNREGISTER: Record<string, number> = {
  'global-array': neg('EOPNOTSUPP'),
  'array-xarray': neg('EOPNOTSUPP'),
  'global-alloc': neg('EOPNOTSUPP'),
  'per-ctx': neg('EOPNOTSUPP'),
  'per-fd': neg('EBADF'),
  'per-fd-fixed': neg('EBADF'),
};

for (const design of DESIGNS) {
  describe(`${design.name} happy path`, () => {
    const spec = programSpec('echo', { issue: { res: 42, ret: 0 } });

    it('completes an inline request with the result the program set', () => {
      const s = registered(design, spec);
      assert.equal(submitAndSettle(s, 7), 42);
      const cbs = callbacksOf(s.m, 1);
      assert.deepEqual(cbs.slice(0, 2), ['prep:prog1', 'issue:prog1']);
    });

    it('completes an IOSQE_ASYNC request issued on io-wq', () => {
      const s = registered(design, spec);
      assert.equal(submitAndSettle(s, 8, true), 42);
      const actors = s.m.scheduler.actors.map((a) => a.name);
      assert.ok(
        actors.some((a) => a.startsWith('iowq:')),
        'issue ran on an io-wq actor',
      );
      assert.ok(
        actors.some((a) => a.startsWith('tw:')),
        'completion ran as task work',
      );
    });

    it('fails requests once the program is unregistered', () => {
      const s = registered(design, spec);
      unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
      assert.equal(submitAndSettle(s, 9), AFTER_UNREGISTER[design.id]);
      assert.equal(s.m.world.trace.ofKind('callback').length, 0);
    });

    it('frees the program after a grace period once every reference is gone', () => {
      const s = registered(design, spec);
      assert.equal(submitAndSettle(s, 10), 42);
      unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
      if (design.id !== 'per-fd') unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.progFd)));
      assert.equal(s.m.world.programs[0]?.released, true);
      assert.equal(s.m.world.programs[0]?.freed, false, 'the free waits on a kworker');
      assert.equal(s.m.settle().kind, 'done');
      assert.equal(s.m.world.programs[0]?.freed, true);
    });
  });
}

/** What each design returns for the bad inputs every caller can make. */
const BAD_INPUT: Record<
  string,
  { badProgFd: string | number; doubleUnregister: string; noSetupFlag: number | 'EINVAL at setup' }
> = {
  'global-array': { badProgFd: 'EBADF', doubleUnregister: 'ok', noSetupFlag: neg('EACCES') },
  'array-xarray': { badProgFd: 'EBADF', doubleUnregister: 'ok', noSetupFlag: neg('EACCES') },
  'global-alloc': { badProgFd: 'EBADF', doubleUnregister: 'ok', noSetupFlag: neg('EACCES') },
  'per-ctx': { badProgFd: 'EBADF', doubleUnregister: 'ok', noSetupFlag: neg('EOPNOTSUPP') },
  // per-fd registers nothing: a bad fd shows at prep, as the CQE.
  'per-fd': { badProgFd: neg('EBADF'), doubleUnregister: 'EBADF', noSetupFlag: 'EINVAL at setup' },
  'per-fd-fixed': { badProgFd: 'EBADF', doubleUnregister: 'ok', noSetupFlag: 'EINVAL at setup' },
};

for (const design of DESIGNS) {
  describe(`${design.name} bad input`, () => {
    const expected = BAD_INPUT[design.id];
    assert.ok(expected, `bad-input expectations for ${design.id}`);

    it(`answers a program fd that is not open with ${expected.badProgFd}`, () => {
      const s = setup(design);
      const result = s.m.run(s.proc, s.m.ops.register(s.proc, argsFor(design, 77, s.ringFd)));
      if (typeof expected.badProgFd === 'string') {
        assert.equal(errnoOf(result), expected.badProgFd);
      } else {
        assert.equal(submitAndSettle({ ...s, reg: unwrap(result) }, 1), expected.badProgFd);
      }
    });

    it(`answers a second unregister with ${expected.doubleUnregister}`, () => {
      const s = registered(design);
      unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
      const again = s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg));
      assert.equal(again.ok ? 'ok' : again.errno, expected.doubleUnregister);
    });

    it(`answers a ring without the setup flag with ${expected.noSetupFlag}`, () => {
      const s = registered(design);
      const plain = s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: design.setupFlag === null }));
      if (expected.noSetupFlag === 'EINVAL at setup') {
        assert.equal(errnoOf(plain), 'EINVAL', 'the design has no flag: asking for one fails');
        return;
      }
      unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, unwrap(plain), s.m.sqe(s.reg.name, 1))));
      assert.equal(s.m.world.rings[1]?.cq[0]?.res, expected.noSetupFlag);
    });
  });
}
