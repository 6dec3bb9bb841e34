// Statistics over per-round samples. One module, so every lane, report and
// comparison computes the same numbers the same way. Everything here is
// deterministic: the bootstrap uses a seeded generator.

/** The q-quantile (0..1) of `values` by linear interpolation between order statistics; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** The median of `values`; NaN when empty. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** A small seeded PRNG (mulberry32): the same seed gives the same stream. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const BOOTSTRAP_RESAMPLES = 2000;

/**
 * 95 % percentile-bootstrap interval of `stat` over `values`, from
 * BOOTSTRAP_RESAMPLES resamples with a fixed seed; [NaN, NaN] when empty.
 */
export function bootstrapCi(
  values: readonly number[],
  stat: (v: readonly number[]) => number = median,
  seed = 1,
): [number, number] {
  if (values.length === 0) return [Number.NaN, Number.NaN];
  const rand = seededRandom(seed);
  const stats: number[] = [];
  const sample = new Array<number>(values.length);
  for (let b = 0; b < BOOTSTRAP_RESAMPLES; b++) {
    for (let i = 0; i < values.length; i++)
      sample[i] = values[Math.floor(rand() * values.length)] as number;
    stats.push(stat(sample));
  }
  return [quantile(stats, 0.025), quantile(stats, 0.975)];
}

/** Tukey's fences: values below Q1 - 1.5 IQR or above Q3 + 1.5 IQR. */
export function tukeyOutliers(values: readonly number[]): { low: number; high: number } {
  const q1 = quantile(values, 0.25);
  const q3 = quantile(values, 0.75);
  const fence = 1.5 * (q3 - q1);
  return {
    low: values.filter((v) => v < q1 - fence).length,
    high: values.filter((v) => v > q3 + fence).length,
  };
}

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
  readonly min: number;
  readonly max: number;
  /** 95 % bootstrap interval of the median. */
  readonly ci95: readonly [number, number];
  readonly outliers: { readonly low: number; readonly high: number };
}

/** n, median, quartiles, range, 95 % interval and Tukey outliers of `values`. */
export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: median(values),
    p25: quantile(values, 0.25),
    p75: quantile(values, 0.75),
    min: values.length === 0 ? Number.NaN : Math.min(...values),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
    ci95: bootstrapCi(values),
    outliers: tukeyOutliers(values),
  };
}

/** Per-round ratios value/baseline, for rounds both have; rounds are aligned by index. */
export function perRoundRatios(values: readonly number[], baseline: readonly number[]): number[] {
  const n = Math.min(values.length, baseline.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((values[i] as number) / (baseline[i] as number));
  return out;
}

/** Per-round differences value - baseline (the cost added over a baseline), rounds aligned by index. */
export function perRoundDiffs(values: readonly number[], baseline: readonly number[]): number[] {
  const n = Math.min(values.length, baseline.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((values[i] as number) - (baseline[i] as number));
  return out;
}

/** Average ranks (1-based) of `values`, ties sharing the mean of their positions. */
function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (
      j + 1 < order.length &&
      (order[j + 1] as readonly [number, number])[0] === (order[i] as readonly [number, number])[0]
    )
      j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[(order[k] as readonly [number, number])[1]] = rank;
    i = j + 1;
  }
  return out;
}

/** Number of arrangements of m and n items with Mann-Whitney U = u, for u = 0..m*n. */
function exactUCounts(m: number, n: number): number[] {
  // counts[i][j][u] built up over i = 0..m, j = 0..n: f(i,j,u) = f(i-1,j,u-j) + f(i,j-1,u).
  let prev: number[][] = Array.from({ length: n + 1 }, () => [1]);
  for (let i = 1; i <= m; i++) {
    const cur: number[][] = [[1]];
    for (let j = 1; j <= n; j++) {
      const size = i * j + 1;
      const row = new Array<number>(size).fill(0);
      const left = cur[j - 1] as number[];
      const up = prev[j] as number[];
      for (let u = 0; u < size; u++) row[u] = (u - j >= 0 ? (up[u - j] ?? 0) : 0) + (left[u] ?? 0);
      cur.push(row);
    }
    prev = cur;
  }
  return prev[n] as number[];
}

/** Standard normal CDF (Abramowitz and Stegun 7.1.26; error below 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export interface MannWhitney {
  /** U of the first sample. */
  readonly u: number;
  /** Two-sided p-value. */
  readonly p: number;
  readonly method: 'exact' | 'normal';
}

/**
 * Two-sided Mann-Whitney U test. Exact when there are no ties and both
 * samples have at most 25 values; otherwise the normal approximation with
 * tie correction and continuity correction. p is 1 when either is empty.
 */
export function mannWhitney(a: readonly number[], b: readonly number[]): MannWhitney {
  const m = a.length;
  const n = b.length;
  if (m === 0 || n === 0) return { u: Number.NaN, p: 1, method: 'exact' };
  const all = [...a, ...b];
  const r = ranks(all);
  const r1 = r.slice(0, m).reduce((s, x) => s + x, 0);
  const u = r1 - (m * (m + 1)) / 2;
  const ties = new Map<number, number>();
  for (const v of all) ties.set(v, (ties.get(v) ?? 0) + 1);
  const tied = [...ties.values()].some((c) => c > 1);
  if (!tied && m <= 25 && n <= 25) {
    const counts = exactUCounts(m, n);
    const total = counts.reduce((s, c) => s + c, 0);
    const lower = Math.min(u, m * n - u);
    let tail = 0;
    for (let k = 0; k <= lower; k++) tail += counts[k] ?? 0;
    return { u, p: Math.min(1, (2 * tail) / total), method: 'exact' };
  }
  const total = m + n;
  const tieTerm = [...ties.values()].reduce((s, t) => s + (t * t * t - t), 0);
  const sigma = Math.sqrt(((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1))));
  const mu = (m * n) / 2;
  if (sigma === 0) return { u, p: 1, method: 'normal' };
  const z = (Math.abs(u - mu) - 0.5) / sigma;
  return { u, p: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))), method: 'normal' };
}

export interface Change {
  /** Relative change of the median, new over old minus 1 (0.05 is 5 % more). */
  readonly change: number;
  /** 95 % bootstrap interval of that relative change. */
  readonly ci95: readonly [number, number];
  readonly p: number;
  readonly significant: boolean;
  readonly aboveNoise: boolean;
  /** Significant AND above the noise band: only then is a change called. */
  readonly called: boolean;
}

/** Compares two samples: called only when Mann-Whitney p < alpha and |change| > noiseBand. */
export function compareSamples(
  before: readonly number[],
  after: readonly number[],
  opts: { alpha?: number; noiseBand?: number } = {},
): Change {
  const alpha = opts.alpha ?? 0.05;
  const noiseBand = opts.noiseBand ?? 0.02;
  const change = median(after) / median(before) - 1;
  const rand = seededRandom(7);
  const pick = (v: readonly number[]) => v.map(() => v[Math.floor(rand() * v.length)] as number);
  const boot: number[] = [];
  for (let i = 0; i < BOOTSTRAP_RESAMPLES && before.length > 0 && after.length > 0; i++) {
    boot.push(median(pick(after)) / median(pick(before)) - 1);
  }
  const { p } = mannWhitney(before, after);
  const significant = p < alpha;
  const aboveNoise = Math.abs(change) > noiseBand;
  return {
    change,
    ci95: [quantile(boot, 0.025), quantile(boot, 0.975)],
    p,
    significant,
    aboveNoise,
    called: significant && aboveNoise,
  };
}

/**
 * Holm's step-down adjusted p-values (Holm 1979): with m tests sorted by p,
 * the i-th smallest becomes max over j <= i of min(1, (m - j + 1) p_j). A
 * test is significant at family-wise level alpha when its adjusted p < alpha;
 * the chance of any false call across the whole family stays below alpha.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}

/**
 * The smallest two-sided p mannWhitney() can return for samples of m and n
 * values: 2 / C(m + n, m) in the exact test (every value of one sample below
 * every value of the other). Above the level a test needs, the test cannot
 * call a change whatever the data: too little data, not "no change".
 */
export function minMannWhitneyP(m: number, n: number): number {
  if (m === 0 || n === 0) return 1;
  if (m > 25 || n > 25) return 0;
  let c = 1;
  for (let k = 1; k <= Math.min(m, n); k++) c = (c * (Math.max(m, n) + k)) / k;
  return Math.min(1, 2 / c);
}

export interface GroupShift {
  /** Geometric mean over the group's series of median(after)/median(before), minus 1. */
  readonly change: number;
  /** 95 % bootstrap interval of that change, resampling whole rounds. */
  readonly ci95: readonly [number, number];
  /** Series in the group. */
  readonly series: number;
}

const geomeanOfMedianRatios = (
  before: readonly (readonly number[])[],
  after: readonly (readonly number[])[],
  pickBefore: readonly number[],
  pickAfter: readonly number[],
): number => {
  let logSum = 0;
  before.forEach((b, s) => {
    const a = after[s] as readonly number[];
    const mb = median(pickBefore.map((r) => b[r] as number));
    const ma = median(pickAfter.map((r) => a[r] as number));
    logSum += Math.log(ma / mb);
  });
  return Math.exp(logSum / before.length) - 1;
};

/**
 * The shift of a whole group of series measured in the same interleaved
 * rounds (one lane of one run): the geometric mean of the per-series ratios
 * of medians, after over before, with a 95 % bootstrap interval that
 * resamples whole rounds of each run (the series of one round share that
 * round's machine state, so they are resampled together). Series are
 * aligned by index; each is cut to the rounds every series has.
 */
export function groupShift(
  before: readonly (readonly number[])[],
  after: readonly (readonly number[])[],
  seed = 11,
): GroupShift {
  const series = Math.min(before.length, after.length);
  const b = before.slice(0, series);
  const a = after.slice(0, series);
  const nb = Math.min(...b.map((v) => v.length));
  const na = Math.min(...a.map((v) => v.length));
  if (series === 0 || nb === 0 || na === 0)
    return { change: Number.NaN, ci95: [Number.NaN, Number.NaN], series };
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  const change = geomeanOfMedianRatios(b, a, all(nb), all(na));
  const rand = seededRandom(seed);
  const pick = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * n));
  const boot: number[] = [];
  for (let i = 0; i < BOOTSTRAP_RESAMPLES; i++)
    boot.push(geomeanOfMedianRatios(b, a, pick(nb), pick(na)));
  return { change, ci95: [quantile(boot, 0.025), quantile(boot, 0.975)], series };
}
