// Where a struct_ops link's ->unreg() runs: closing the last link fd frees
// the link synchronously in the closer (bpf_link_release ->
// bpf_link_put_direct); a bpffs pin holds its own link reference, and
// unpinning drops it through bpf_link_put()'s deferred work, so ->unreg()
// runs later, on a kworker with no user files (kernel/bpf/syscall.c,
// kernel/bpf/inode.c).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { neg } from '../../designs/kernel/errno.js';
import { perCtx } from '../../designs/per-ctx.js';
import { programSpec } from '../../designs/world.js';
import type { ActorPlan, Scenario } from '../../fuzz/scenario.js';
import { simulate } from '../../fuzz/simulate.js';
import { errnoOf, registered, unwrap } from '../helpers.js';

/** The actor that ran each ->unreg() (numbering dropped) and what it returned. */
function unregs(s: ReturnType<typeof registered>) {
  return s.m.world.trace
    .ofKind('unregistered')
    .map((e) => [e.actor.split('#')[0], e.event.ret] as const);
}

describe('bpf_link release: close vs bpffs unpin', () => {
  it('closing the only link fd runs ->unreg() in the closer, before close returns', () => {
    const s = registered(perCtx, programSpec('p'), 1);
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.reg.linkFd ?? -1)));
    assert.deepEqual(unregs(s), [['server', 0]]);
  });

  it('a pinned link survives close of its fd and its creator exit', () => {
    const s = registered(perCtx, programSpec('p'), 1);
    unwrap(s.m.run(s.proc, s.m.world.pinLink(s.proc, s.reg.linkFd ?? -1, 'ops')));
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.reg.linkFd ?? -1)));
    unwrap(s.m.run(s.proc, s.m.world.exit(s.proc)));
    s.m.settle();
    assert.deepEqual(unregs(s), []);
    assert.equal(s.m.world.pinned.get('ops')?.refs, 1, 'only the pin holds it');
  });

  it('unpinning the last reference runs ->unreg() on a kworker: no fds, EBADF, the slot keeps the program', () => {
    const s = registered(perCtx, programSpec('p'), 1);
    unwrap(s.m.run(s.proc, s.m.world.pinLink(s.proc, s.reg.linkFd ?? -1, 'ops')));
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.reg.linkFd ?? -1)));
    unwrap(s.m.run(s.proc, s.m.world.unpinLink('ops')));
    assert.deepEqual(unregs(s), [], 'unlink returns before the deferred put');
    s.m.settle();
    assert.deepEqual(unregs(s), [['kworker:link-put1', neg('EBADF')]]);
    // The ring still names the program, though the link's reference to it is gone.
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 7))));
    s.m.settle();
    const ran = s.m.world.trace.ofKind('callback').map((e) => e.event.callback);
    assert.ok(ran.includes('prep'), 'a request still runs the unregistered program');
  });

  it('unpin while the fd is open drops only the pin; the later close is the synchronous last put', () => {
    const s = registered(perCtx, programSpec('p'), 1);
    unwrap(s.m.run(s.proc, s.m.world.pinLink(s.proc, s.reg.linkFd ?? -1, 'ops')));
    unwrap(s.m.run(s.proc, s.m.world.unpinLink('ops')));
    s.m.settle();
    assert.deepEqual(unregs(s), []);
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.reg.linkFd ?? -1)));
    assert.deepEqual(unregs(s), [['server', 0]]);
  });

  it('pin errors: a path in use, a path not pinned, an fd that is not a link', () => {
    const s = registered(perCtx, programSpec('p'), 1);
    unwrap(s.m.run(s.proc, s.m.world.pinLink(s.proc, s.reg.linkFd ?? -1, 'ops')));
    assert.equal(
      errnoOf(s.m.run(s.proc, s.m.world.pinLink(s.proc, s.reg.linkFd ?? -1, 'ops'))),
      'EEXIST',
    );
    assert.equal(errnoOf(s.m.run(s.proc, s.m.world.unpinLink('nope'))), 'ENOENT');
    assert.equal(errnoOf(s.m.run(s.proc, s.m.world.pinLink(s.proc, s.ringFd, 'ring'))), 'EINVAL');
  });
});

describe('protocols that pin their link', () => {
  const program = { prep: 0, issueRet: 0, issueRes: 0, fail: true, cleanup: true };
  const scenario = (pin: boolean): Scenario => ({
    processes: [{ ns: 0, team: 0 }],
    actors: [
      { process: 0, protocol: 'exclusive', id: 0, program, requests: [false], extra: 0, pin },
    ],
    priorities: [],
    changes: [],
  });

  /** The callbacks run by the request submitted after the unregister (intended null). */
  const staleCallbacks = (pin: boolean) => {
    const o = simulate(perCtx, scenario(pin));
    const stale = o.log.submits.find((x) => x.intended === null)?.request;
    const ran = o.m.world.trace.ofKind('callback').filter((e) => e.event.request === stale);
    return { o, callbacks: ran.map((e) => e.event.callback) };
  };

  it('exclusive on per-ctx: after BPF_LINK_DETACH the stale request fails in prep', () => {
    // (Its ->fail() still runs the recycled request's cached ops: the saved per-ctx stale-id.)
    assert.deepEqual(staleCallbacks(false).callbacks, ['fail']);
  });

  it('exclusive on per-ctx: after unpinning, ->unreg() on a kworker misses the ring: the program still runs', () => {
    const { o, callbacks } = staleCallbacks(true);
    assert.deepEqual(callbacks, ['prep', 'issue', 'cleanup']);
    const unreg = o.m.world.trace.ofKind('unregistered');
    assert.deepEqual(
      unreg.map((e) => [e.actor.split('#')[0], e.event.ret]),
      [['kworker:link-put1', neg('EBADF')]],
    );
  });

  it('restart leaves its link pinned across the crash; the restarted server unpins it', () => {
    const o = simulate(perCtx, {
      ...scenario(true),
      actors: [{ ...(scenario(true).actors[0] as ActorPlan), protocol: 'restart' }],
    });
    assert.equal(o.outcome.kind, 'done');
    assert.equal(o.m.world.pinned.size, 0, 'the pin is gone');
    assert.ok(o.log.unregisters.length >= 1);
  });
});
