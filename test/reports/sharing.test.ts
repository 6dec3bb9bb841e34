// The contention curve: same over own at every thread count, for the
// kernel, bpf-standin and native lanes, as the appendix table and one HTML
// chart per lane show it; on the hand-made results of fixtures.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Results } from '../../bench/results.js';
import { appendixReport } from '../../reports/appendix.js';
import { chartSpecs } from '../../reports/charts.js';
import { hasSharingCurve, sharingCurves } from '../../reports/sharing-view.js';
import { sampleResults } from './fixtures.js';

describe('sharing curve', () => {
  it('has a same/own point per thread count for each kernel pair and C design', async () => {
    const r = await sampleResults();
    const curves = sharingCurves(r);
    const kernel = curves.filter((c) => c.lane === 'kernel');
    assert.deepEqual(
      kernel.map((c) => c.pair),
      ['file-same/file-own', 'fixed-same/fixed-own'],
    );
    for (const c of kernel) {
      assert.equal(c.batch, 128);
      assert.deepEqual(
        c.points.map((p) => p.threads),
        [1, 2],
      );
    }
    // The native lane has own programs only with more than one ring.
    const native = curves.filter((c) => c.lane === 'native');
    assert.ok(native.length > 0);
    for (const c of native)
      assert.deepEqual(
        c.points.map((p) => p.threads),
        [2],
      );
    assert.equal(hasSharingCurve(curves), true);
  });

  it('is printed per lane, pair and N in the appendix and drawn per lane in the HTML', async () => {
    const r = await sampleResults();
    const text = appendixReport(r);
    assert.match(text, /== sharing: same\/own against thread count/);
    assert.match(text, /kernel +file-same\/file-own +b128 +t2 +\d\.\d{3}x \[/);
    for (const l of text.split('\n')) assert.ok(l.length <= 80, l);
    const titles = chartSpecs(r).map((s) => s.title);
    assert.ok(titles.includes('Sharing curve (kernel lane): same over own at each thread count'));
    assert.ok(titles.includes('Sharing curve (native lane): same over own at each thread count'));
  });

  it('is absent when every lane ran one thread (one usable CPU)', async () => {
    const r = await sampleResults();
    const one: Results = {
      ...r,
      lanes: r.lanes.map((l) => ({
        ...l,
        metrics: l.metrics.filter((m) => m.labels.threads === undefined || m.labels.threads === 1),
      })),
    };
    assert.equal(hasSharingCurve(sharingCurves(one)), false);
    assert.doesNotMatch(appendixReport(one), /== sharing/);
    assert.ok(!chartSpecs(one).some((s) => s.title.startsWith('Sharing curve')));
  });
});
