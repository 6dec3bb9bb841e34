import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bootstrapCi,
  compareSamples,
  groupShift,
  holmAdjust,
  mannWhitney,
  median,
  minMannWhitneyP,
  perRoundDiffs,
  perRoundRatios,
  quantile,
  summarize,
  tukeyOutliers,
} from '../../bench/stats.js';

const close = (a: number, b: number, eps = 1e-6) =>
  assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

describe('quantiles', () => {
  it('interpolates between order statistics', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(quantile([1, 2, 3, 4, 5], 0.25), 2);
    assert.equal(quantile([10, 20], 0.75), 17.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('counts Tukey outliers beyond 1.5 IQR', () => {
    // Q1 = 2, Q3 = 4, IQR = 2: fences at -1 and 7.
    assert.deepEqual(tukeyOutliers([1, 2, 3, 4, 5, 2, 3, 4, 100, -50]), { low: 1, high: 1 });
    assert.deepEqual(tukeyOutliers([1, 2, 3]), { low: 0, high: 0 });
  });

  it('gives per-round ratios for the rounds both samples have', () => {
    assert.deepEqual(perRoundRatios([2, 6, 9], [1, 3]), [2, 2]);
    assert.deepEqual(perRoundDiffs([2, 6, 9], [1, 3]), [1, 3]);
  });
});

describe('bootstrap interval', () => {
  it('is deterministic and brackets the median', () => {
    const v = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    const a = bootstrapCi(v);
    assert.deepEqual(bootstrapCi(v), a);
    assert.ok(a[0] <= median(v) && median(v) <= a[1]);
    assert.deepEqual(bootstrapCi([7, 7, 7]), [7, 7]);
  });

  it('appears in the summary with n and the quartiles', () => {
    const s = summarize([1, 2, 3, 4, 5]);
    assert.deepEqual([s.n, s.median, s.p25, s.p75, s.min, s.max], [5, 3, 2, 4, 1, 5]);
  });
});

describe('Mann-Whitney U', () => {
  it('gives the exact two-sided p for fully separated samples: 2/C(10,5)', () => {
    const r = mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    assert.equal(r.method, 'exact');
    assert.equal(r.u, 0);
    close(r.p, 2 / 252);
  });

  it('says "no difference" for interleaved samples: U = 10, p = 2 * 87/252', () => {
    const r = mannWhitney([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]);
    assert.equal(r.u, 10);
    close(r.p, (2 * 87) / 252);
    assert.ok(r.p > 0.05);
  });

  it('uses the normal approximation with tie correction when values tie', () => {
    const r = mannWhitney([1, 1, 3, 4], [3, 5, 6, 7]);
    assert.equal(r.method, 'normal');
    // Ranks: 1,1 -> 1.5 each; 3,3 -> 3.5 each; 4 -> 5. R1 = 11.5, U = 11.5 - 10 = 1.5.
    assert.equal(r.u, 1.5);
    // Ties: two pairs, (2^3 - 2) * 2 = 12. sigma^2 = 16/12 * (9 - 12/56) = 11.714;
    // z = (|1.5 - 8| - 0.5) / 3.4226 = 1.7531; p = 2 * (1 - Phi(1.7531)) = 0.0796.
    close(r.p, 0.0796, 1e-3);
  });

  it('returns p = 1 for an empty sample', () => {
    assert.equal(mannWhitney([], [1, 2]).p, 1);
  });
});

describe('calling a change', () => {
  const base = [100, 101, 99, 100, 102, 98, 100, 101, 99, 100];

  it('calls a significant change above the noise band', () => {
    const slower = base.map((v) => v * 1.1);
    const c = compareSamples(base, slower);
    close(c.change, 0.1, 1e-9);
    assert.ok(c.significant && c.aboveNoise && c.called);
    assert.ok(c.ci95[0] > 0.05 && c.ci95[1] < 0.15);
  });

  it('does not call a significant change inside the noise band', () => {
    const tight = [100, 100.1, 99.9, 100.2, 99.8, 100, 100.1, 99.9, 100.05, 99.95];
    const c = compareSamples(
      tight,
      tight.map((v) => v * 1.01),
    );
    assert.ok(c.significant, 'the samples do not overlap');
    assert.ok(Math.abs(c.change - 0.01) < 1e-9);
    assert.equal(c.called, false, '1 % is inside the 2 % noise band');
  });

  it('does not call noise: the same values shuffled', () => {
    const c = compareSamples(base, [...base].reverse());
    assert.equal(c.change, 0);
    assert.equal(c.called, false);
    assert.ok(c.p > 0.5);
  });
});

describe('multiple comparisons', () => {
  it("Holm's step-down: the smallest p times m, then (m - 1), kept monotone", () => {
    // m = 4: 0.01*4 = 0.04, 0.02*3 = 0.06, 0.03*2 = 0.06, 0.5*1 = 0.5.
    const adj = holmAdjust([0.03, 0.01, 0.5, 0.02]);
    for (const [i, want] of [0.06, 0.04, 0.5, 0.06].entries()) close(adj[i] as number, want);
    // 0.8 * 2 is capped at 1, and 0.9 may not fall below it.
    assert.deepEqual(holmAdjust([0.9, 0.8]), [1, 1]);
    assert.deepEqual(holmAdjust([]), []);
  });

  it('knows when a Mann-Whitney test cannot reach a level: 5 against 5 rounds', () => {
    close(minMannWhitneyP(5, 5), 2 / 252);
    close(minMannWhitneyP(3, 4), 2 / 35);
    // The smallest p it can return is what mannWhitney gives for fully separated samples.
    close(mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).p, minMannWhitneyP(5, 5));
    assert.equal(minMannWhitneyP(0, 5), 1);
  });
});

describe('group shift', () => {
  const rand = (seed: number) => {
    let s = seed;
    return () => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647;
    };
  };
  const series = (seed: number, scale: number) => {
    const r = rand(seed);
    return Array.from({ length: 40 }, (_, k) =>
      Array.from({ length: 5 }, () => (50 + k) * scale * (1 + (r() - 0.5) * 0.16)),
    );
  };

  it('recovers a shift planted on every series, with an interval that holds it', () => {
    const s = groupShift(series(1, 1), series(2, 1.1));
    assert.equal(s.series, 40);
    assert.ok(Math.abs(s.change - 0.1) < 0.02, String(s.change));
    assert.ok(s.ci95[0] < 0.1 && s.ci95[1] > 0.1 && s.ci95[0] > 0.05, JSON.stringify(s.ci95));
  });

  it('gives an interval around zero when nothing moved', () => {
    const s = groupShift(series(1, 1), series(2, 1));
    assert.ok(s.ci95[0] < 0 && s.ci95[1] > 0, JSON.stringify(s));
    assert.ok(Number.isNaN(groupShift([], []).change));
  });
});
