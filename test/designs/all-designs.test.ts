// Behaviour every design shares, checked over the whole registry: the
// sequential happy path inline and on io-wq, and clean failure once the
// program is unregistered.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { neg } from '../../designs/kernel/errno.js';
import { DESIGNS } from '../../designs/registry.js';
import { programSpec } from '../../designs/world.js';
import { callbacksOf, registered, submitAndSettle, unwrap } from '../helpers.js';

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

    it('frees the program once every reference is gone', () => {
      const s = registered(design, spec);
      assert.equal(submitAndSettle(s, 10), 42);
      unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
      if (design.id !== 'per-fd') unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.progFd)));
      assert.equal(s.m.world.programs[0]?.freed, true);
    });
  });
}
