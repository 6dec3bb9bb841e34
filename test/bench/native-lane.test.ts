import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nativePlan } from '../../bench/lanes/native.js';
import { perCtx } from '../../designs/per-ctx.js';
import { perFd } from '../../designs/per-fd.js';

describe('native lane plan', () => {
  const plan = nativePlan([perFd, perCtx], [1, 32], [1, 2], true);
  const cells = plan.cells.map((c) => {
    const w = plan.workloads[c.workload];
    return `${w?.design}/${w?.loop}/${w?.own ? 'own' : 'shared'}/p${w?.programs}/b${c.batch}/t${c.threads}`;
  });

  it('times the pure loop at the largest batch, against the core, shared and own', () => {
    assert.ok(cells.includes('core/pure/shared/p1/b32/t1'));
    assert.ok(cells.includes('per-fd/pure/own/p1/b32/t2'));
    assert.ok(!cells.includes('per-fd/pure/shared/p1/b1/t1'));
    // Sharing needs a second ring.
    assert.ok(!cells.some((c) => c.includes('/own/') && c.endsWith('/t1')));
  });

  it('times the io-wq path at the largest batch with shared programs, against the core', () => {
    assert.ok(cells.includes('core/iowq/shared/p1/b32/t1'));
    assert.ok(cells.includes('per-ctx/iowq/shared/p1/b32/t2'));
    assert.ok(!cells.some((c) => c.includes('/iowq/own/')));
  });

  it('times the ring loop at every batch with its ring-only baseline', () => {
    for (const b of [1, 32])
      for (const t of [1, 2]) {
        assert.ok(cells.includes(`ring-only/ring-only/shared/p1/b${b}/t${t}`));
        assert.ok(cells.includes(`per-ctx/ring/shared/p1/b${b}/t${t}`));
      }
  });

  it('scales the program count only as far as the design holds', () => {
    for (const n of [16, 256, 4096, 65535])
      assert.ok(cells.includes(`per-fd/pure/shared/p${n}/b32/t1`));
    assert.ok(cells.includes('per-ctx/pure/shared/p16/b32/t1'));
    assert.ok(!cells.includes('per-ctx/pure/shared/p256/b32/t1'));
  });

  it('measures every cell once per round and leaves the ring out without io_uring', () => {
    assert.equal(new Set(cells).size, cells.length);
    const noRing = nativePlan([perFd], [1, 32], [1], false);
    assert.ok(noRing.workloads.every((w) => w.loop === 'pure' || w.loop === 'iowq'));
  });
});
