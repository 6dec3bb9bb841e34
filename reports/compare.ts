// Comparing two results files, shaped like the kernel test robot's
// regression mails: a one-line verdict, base and new kernel and commit as
// column heads, then only what changed, largest first, with p and n.
//
// What is tested, and why:
// * every timed metric's raw per-round values (ns), and, for a metric the
//   lane measured against a baseline in the same rounds (kernel/nop,
//   bpf-standin/none, native/core), its per-round ratio to that baseline:
//   drift of the machine between the two runs (frequency, other load)
//   moves the metric and its baseline together and cancels in the ratio;
// * Mann-Whitney per test, then Holm's correction across every test of the
//   comparison, so the chance of any false call stays below alpha however
//   many cells a run has (a full run has hundreds);
// * each gating lane as a whole: the geometric mean of its metrics' ratios
//   of medians, with a bootstrap interval over rounds. A shift that moves a
//   whole lane by a few percent is significant for no single metric of a
//   quick run, but is for the lane.
// What gates (sets the exit code): the ratio tests, the raw tests of the
// baselines themselves (nothing to cancel against), and the lane shifts,
// of the per-request lanes only. Raw changes of a metric whose ratio did
// not change are shown as drift. The registration, model and memory lanes
// are shown and never gate (see NOT_GATING_LANES). Under QEMU TCG nothing is
// called. Two runs with different options, lanes or kernels are refused
// unless forced. Reads results only.

import type { Metric, Results } from '../bench/results.js';
import {
  BOOTSTRAP_RESAMPLES,
  groupShift,
  holmAdjust,
  mannWhitney,
  median,
  minMannWhitneyP,
  perRoundRatios,
  quantile,
  seededRandom,
} from '../bench/stats.js';
import { runCaveats, TCG_CAVEAT, virtualizationOf } from './caveats.js';
import type { Confirmation } from './confirm.js';
import { esc } from './html.js';
import { columns, MAIL_WIDTH, wrap } from './text.js';

export interface CompareOptions {
  /** A change must exceed this (0.05 is 5 %) to count as a regression. */
  readonly threshold: number;
  /** Below this, a change is noise and not called at all. */
  readonly noiseBand: number;
  /** Family-wise level: Holm-adjusted p below it is significant. */
  readonly alpha: number;
  /** Compare runs whose options, lanes or kernel differ (they are refused otherwise). */
  readonly force?: boolean;
}

export const DEFAULT_COMPARE: CompareOptions = { threshold: 0.05, noiseBand: 0.02, alpha: 0.05 };

/**
 * Lanes compare shows but that never set the exit code.
 * registration: each registration is timed alone (one call of a few hundred
 * ns at small ring counts, near the clock's own cost); two idle quick runs
 * of the same code on 2 cores differed by up to 70 % there. Its real-kernel
 * struct_ops detach is mostly an RCU grace period (synchronize_rcu() in
 * tcp_unregister_congestion_control()), which follows the machine's load.
 * model: the TypeScript models' timings measure V8, not a kernel design.
 * memory: computed sizes, not timings; a change there is a design change
 * the report explains, not a regression of speed.
 */
export const NOT_GATING_LANES: readonly string[] = ['registration', 'model', 'memory', 'fuzz'];

/** How a test came out: a called change, no change, too little data to call, or an exact (computed) value. */
export type Verdict = 'changed' | 'same' | 'too-little-data';

export interface MetricDelta {
  /** The metric's id; a ratio test has the same id and kind 'ratio'. */
  readonly id: string;
  readonly lane: string;
  /** raw: the metric's values; ratio: its per-round ratio to `baseline`. */
  readonly kind: 'raw' | 'ratio';
  /** The baseline metric of a ratio test (kernel/nop/...), else null. */
  readonly baseline: string | null;
  readonly unit: string;
  readonly better: 'lower' | 'higher';
  readonly base: readonly number[];
  readonly next: readonly number[];
  /** Relative change of the median, new over base minus 1 (0.05 is 5 % more). */
  readonly change: number;
  /** 95 % bootstrap interval of that change. */
  readonly ci95: readonly [number, number];
  /**
   * For a marginal cost (kernel/.../marginal-b32-b128: the difference of two
   * cells, near zero and possibly negative, so its relative change means
   * nothing): new median minus base median in its unit; else null.
   */
  readonly difference: number | null;
  /** Mann-Whitney p before correction; 0 or 1 for single computed values. */
  readonly p: number;
  /** Holm-adjusted p across every test of the comparison. */
  readonly pAdjusted: number;
  readonly verdict: Verdict;
  readonly regression: boolean;
  readonly improvement: boolean;
  /** Shown but never sets the exit code: a non-gating lane, or a raw test of a metric with a baseline. */
  readonly informational: boolean;
  /** Why a change is shown but not counted, when it is. */
  readonly note: string | null;
}

export interface LaneShift {
  readonly lane: string;
  /** raw: the metrics' ns; ratio: their per-round ratios to the lane's baseline. */
  readonly kind: 'raw' | 'ratio';
  readonly change: number;
  readonly ci95: readonly [number, number];
  readonly metrics: number;
  readonly rounds: readonly [number, number];
  /** Interval excludes zero and |change| is above the noise band. */
  readonly called: boolean;
  readonly regression: boolean;
  readonly improvement: boolean;
}

export interface Side {
  readonly quick: boolean;
  readonly kernel: string;
  readonly commit: string;
  readonly label: string;
}

export type Comparison =
  | { readonly ok: false; readonly reason: string; readonly refused: boolean }
  | {
      readonly ok: true;
      readonly deltas: readonly MetricDelta[];
      readonly lanes: readonly LaneShift[];
      readonly onlyInBase: readonly string[];
      readonly onlyInNew: readonly string[];
      readonly options: CompareOptions;
      /** The runs made under QEMU TCG: when any, timings are not valid and nothing is a regression or improvement. */
      readonly tcg: readonly ('base' | 'new')[];
      /** What differs between the runs when --force made them comparable anyway; empty otherwise. */
      readonly forced: readonly string[];
      readonly sides: { readonly base: Side; readonly new: Side };
      /** Each run's own caveats (reports/caveats.ts) other than TCG, which compare states itself. */
      readonly runCaveats: { readonly base: readonly string[]; readonly new: readonly string[] };
    };

type Ok = Extract<Comparison, { ok: true }>;

const metricsOf = (r: Results) => new Map(r.lanes.flatMap((l) => l.metrics).map((m) => [m.id, m]));

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Options that do not change what is measured: where it was written, where libbpf came from. */
const IGNORED_OPTIONS = new Set(['out', 'libbpf']);

function kernelOf(r: Results): string {
  const e = r.environment;
  const k = isObject(e) && isObject(e.kernel) ? e.kernel.release : undefined;
  return typeof k === 'string' ? k : 'unknown kernel';
}

function sideOf(r: Results): Side {
  const e = isObject(r.environment) ? r.environment : {};
  const commit = typeof e.gitCommit === 'string' ? e.gitCommit.slice(0, 12) : 'unknown';
  const dirty = e.gitDirty === true ? '+dirty' : '';
  const o = isObject(r.options) ? r.options : {};
  const label = [
    o.quick === true ? 'quick' : 'full',
    typeof o.rounds === 'number' ? `${o.rounds} rounds` : '',
  ]
    .filter((x) => x !== '')
    .join(', ');
  return { quick: o.quick === true, kernel: kernelOf(r), commit: `${commit}${dirty}`, label };
}

/**
 * Why two runs' numbers are not comparable: options that change what is
 * measured (quick, rounds, duration, designs, sizes, CPUs), the lanes run and
 * how each ended, the kernel. One short item each; empty when none.
 */
export function differences(base: Results, next: Results): string[] {
  const out: string[] = [];
  const a = isObject(base.options) ? base.options : {};
  const b = isObject(next.options) ? next.options : {};
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (IGNORED_OPTIONS.has(key)) continue;
    const [x, y] = [JSON.stringify(a[key]), JSON.stringify(b[key])];
    if (x !== y) out.push(`${key} ${x ?? 'unset'} vs ${y ?? 'unset'}`);
  }
  const lanes = (r: Results) => r.lanes.map((l) => `${l.lane}:${l.status}`).join(',');
  if (lanes(base) !== lanes(next)) out.push(`lanes ${lanes(base)} vs ${lanes(next)}`);
  if (kernelOf(base) !== kernelOf(next)) out.push(`kernel ${kernelOf(base)} vs ${kernelOf(next)}`);
  return out;
}

/** 95 % bootstrap interval of median(after)/median(before) - 1, seeded. */
function changeInterval(before: readonly number[], after: readonly number[]): [number, number] {
  const rand = seededRandom(7);
  const pick = (v: readonly number[]) => v.map(() => v[Math.floor(rand() * v.length)] as number);
  const boot: number[] = [];
  for (let i = 0; i < BOOTSTRAP_RESAMPLES; i++)
    boot.push(median(pick(after)) / median(pick(before)) - 1);
  return [quantile(boot, 0.025), quantile(boot, 0.975)];
}

/** A marginal cost per request between two batch sizes: a difference of two cells, not a timing. */
const isMarginal = (id: string) => id.includes('/marginal-');

/** A test before it is run: the delta's inputs, and how it may gate. */
interface Planned
  extends Pick<
    MetricDelta,
    'id' | 'lane' | 'kind' | 'baseline' | 'unit' | 'better' | 'base' | 'next'
  > {
  readonly informational: boolean;
  /** A baseline metric the ratio tests divide by: its raw test gates. */
  readonly isBaseline: boolean;
}

/** Compares `next` against `base`; not ok when they cannot be compared (schema, no common metric, refused). */
export function compareResults(
  base: Results,
  next: Results,
  o: CompareOptions = DEFAULT_COMPARE,
): Comparison {
  if (base.schemaVersion !== next.schemaVersion) {
    return {
      ok: false,
      refused: false,
      reason: `schema versions differ: ${base.schemaVersion} and ${next.schemaVersion}`,
    };
  }
  const a = metricsOf(base);
  const b = metricsOf(next);
  const common = [...a.keys()].filter((id) => b.has(id));
  if (common.length === 0)
    return { ok: false, refused: false, reason: 'no metric is in both files' };
  const diffs = differences(base, next);
  if (diffs.length > 0 && o.force !== true)
    return { ok: false, refused: true, reason: `the runs differ: ${diffs.join('; ')}` };
  const tcg = (['base', 'new'] as const).filter(
    (side) => virtualizationOf(side === 'base' ? base : next) === 'tcg',
  );
  const timed = tcg.length === 0;
  const baselines = new Set(
    common.flatMap((id) => {
      const bl = (b.get(id) as Metric).vsBaseline?.baseline;
      return bl === undefined ? [] : [bl];
    }),
  );

  const planned: Planned[] = [];
  for (const id of common) {
    const bm = a.get(id) as Metric;
    const nm = b.get(id) as Metric;
    const informational = NOT_GATING_LANES.includes(nm.lane);
    planned.push({
      id,
      lane: nm.lane,
      kind: 'raw',
      baseline: null,
      unit: nm.unit,
      better: nm.better,
      base: bm.values,
      next: nm.values,
      informational,
      isBaseline: baselines.has(id),
    });
    const bl = nm.vsBaseline?.baseline;
    const bb = bl === undefined ? undefined : a.get(bl);
    const nb = bl === undefined ? undefined : b.get(bl);
    if (bl !== undefined && bb !== undefined && nb !== undefined && bm.vsBaseline?.baseline === bl)
      planned.push({
        id,
        lane: nm.lane,
        kind: 'ratio',
        baseline: bl,
        unit: 'ratio',
        better: nm.better,
        base: perRoundRatios(bm.values, bb.values),
        next: perRoundRatios(nm.values, nb.values),
        informational,
        isBaseline: false,
      });
  }

  // Sampled tests join the Holm family; single computed values (memory) are exact.
  const sampled = (t: Planned) => t.base.length > 1 || t.next.length > 1;
  const family = planned.filter(sampled);
  const raw = family.map((t) => mannWhitney(t.base, t.next).p);
  const adjusted = holmAdjust(raw);
  const pOf = new Map(family.map((t, i) => [t, [raw[i] as number, adjusted[i] as number]]));
  const perTestLevel = o.alpha / Math.max(1, family.length);

  const deltas = planned.map((t): MetricDelta => {
    const change = median(t.next) / median(t.base) - 1;
    const exact = !sampled(t);
    const [p, pAdjusted] = exact
      ? [change === 0 ? 1 : 0, change === 0 ? 1 : 0]
      : (pOf.get(t) as number[]);
    const significant = (pAdjusted as number) < o.alpha;
    const derived = isMarginal(t.id);
    // A marginal cost has no meaningful relative size: its significance alone calls it (it never gates).
    const aboveNoise = derived || Math.abs(change) > o.noiseBand;
    const verdict: Verdict =
      significant && aboveNoise
        ? 'changed'
        : !exact && minMannWhitneyP(t.base.length, t.next.length) >= perTestLevel
          ? 'too-little-data'
          : 'same';
    // A raw change of a metric with a baseline may be drift of the machine,
    // which moves the baseline too: it counts only when its ratio to the
    // baseline moved as far the same way. The ratio need not be significant
    // itself: when metric and baseline do not drift together (load on 2
    // cores), the ratio is noisier than either.
    const ratio = planned.find((r) => r.id === t.id && r.kind === 'ratio');
    const ratioChange = ratio === undefined ? 0 : median(ratio.next) / median(ratio.base) - 1;
    const drift =
      t.kind === 'raw' &&
      !t.isBaseline &&
      ratio !== undefined &&
      !(Math.abs(ratioChange) > o.threshold && Math.sign(ratioChange) === Math.sign(change));
    const informational = t.informational || drift || derived;
    const worse = t.better === 'lower' ? change > 0 : change < 0;
    const beyond = verdict === 'changed' && Math.abs(change) > o.threshold;
    const gates = timed && !informational;
    return {
      id: t.id,
      lane: t.lane,
      kind: t.kind,
      baseline: t.baseline,
      unit: t.unit,
      better: t.better,
      base: t.base,
      next: t.next,
      change,
      ci95: exact ? [change, change] : changeInterval(t.base, t.next),
      difference: derived ? median(t.next) - median(t.base) : null,
      p: p as number,
      pAdjusted: pAdjusted as number,
      verdict,
      regression: gates && beyond && worse,
      improvement: gates && beyond && !worse,
      informational,
      note: t.informational
        ? `the ${t.lane} lane does not gate`
        : derived
          ? 'a marginal cost, the difference of two cells tested on their own: does not gate'
          : drift
            ? 'raw ns only: its ratio to its baseline did not move as far'
            : null,
    };
  });

  const lanes: LaneShift[] = [];
  for (const lane of [...new Set(planned.map((t) => t.lane))]) {
    if (NOT_GATING_LANES.includes(lane)) continue;
    // Two views of the lane: raw ns (catches a shift of everything, the
    // baseline too, but also moves with machine drift between the runs) and
    // the ratios to the baseline (drift cancels; blind to a shift of all).
    for (const kind of ['raw', 'ratio'] as const) {
      // Measured timings only: a marginal cost (the difference of two cells,
      // kernel/.../marginal-b32-b128) is derived from cells already here and
      // can be negative, which a geometric mean cannot take.
      const series = planned.filter(
        (t) =>
          t.lane === lane &&
          t.kind === kind &&
          sampled(t) &&
          !isMarginal(t.id) &&
          [...t.base, ...t.next].every((v) => v > 0),
      );
      if (series.length === 0) continue;
      const s = groupShift(
        series.map((t) => t.base),
        series.map((t) => t.next),
      );
      const called = (s.ci95[0] > 0 || s.ci95[1] < 0) && Math.abs(s.change) > o.noiseBand && timed;
      const worse = (series[0] as Planned).better === 'lower' ? s.change > 0 : s.change < 0;
      const beyond = called && Math.abs(s.change) > o.threshold;
      lanes.push({
        lane,
        kind,
        change: s.change,
        ci95: s.ci95,
        metrics: s.series,
        rounds: [
          Math.min(...series.map((t) => t.base.length)),
          Math.min(...series.map((t) => t.next.length)),
        ],
        called,
        regression: beyond && worse,
        improvement: beyond && !worse,
      });
    }
  }

  return {
    ok: true,
    deltas,
    lanes,
    onlyInBase: [...a.keys()].filter((id) => !b.has(id)),
    onlyInNew: [...b.keys()].filter((id) => !a.has(id)),
    options: o,
    tcg,
    forced: diffs,
    sides: { base: sideOf(base), new: sideOf(next) },
    runCaveats: {
      base: runCaveats(base).filter((x) => x !== TCG_CAVEAT),
      new: runCaveats(next).filter((x) => x !== TCG_CAVEAT),
    },
  };
}

/**
 * True when the comparison found a regression that sets the exit code;
 * after `--confirm`, only one the re-run showed again.
 */
export function hasRegression(c: Ok, confirmation: Confirmation | null = null): boolean {
  if (c.tcg.length > 0) return false;
  if (confirmation !== null) return confirmation.items.some((x) => x.confirmed);
  return c.deltas.some((d) => d.regression) || c.lanes.some((l) => l.regression);
}

/**
 * A caveat when either run is a quick one: its few rounds are not citable,
 * and a whole-lane shift between two runs moves with the machine's load
 * between them as much as with the code (see README, compare); else null.
 */
export function quickCaveat(c: Ok): string | null {
  const quick = (['base', 'new'] as const).filter((s) => c.sides[s].quick);
  if (quick.length === 0) return null;
  const who = quick.length === 2 ? 'both runs are' : `the ${quick[0]} run is`;
  return `${who} --quick: few rounds call few metrics, and a lane shift may be the machine's drift between the runs`;
}

/** Each run's own caveats, "(both runs)" once for one both have, else "(base run)" or "(new run)". */
export function sideCaveats(c: Ok): string[] {
  const { base, new: next } = c.runCaveats;
  return [
    ...base.map((x) => `(${next.includes(x) ? 'both runs' : 'base run'}): ${x}`),
    ...next.filter((x) => !base.includes(x)).map((x) => `(new run): ${x}`),
  ];
}

/** One line when a run was under QEMU TCG: its timings are not valid, so nothing is called; else null. */
export function tcgCaveat(c: Ok): string | null {
  if (c.tcg.length === 0) return null;
  const who = c.tcg.length === 2 ? 'both runs are' : `the ${c.tcg[0]} run is`;
  return `${who} under QEMU TCG: timings not valid, no regression called`;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** A delta's change as shown: a percentage, or for a marginal cost its difference in ns. */
const changeText = (d: MetricDelta) =>
  d.difference === null
    ? pct(d.change)
    : `${d.difference >= 0 ? '+' : ''}${d.difference.toFixed(1)}ns`;

function num(x: number, unit: string): string {
  if (unit === 'ratio') return `${x.toFixed(3)}x`;
  return x >= 1000 ? x.toFixed(0) : x.toFixed(2);
}

/** Relative half-width of the values' interquartile range around the median, as a whole percentage. */
function spread(values: readonly number[]): string {
  const m = median(values);
  if (values.length < 2 || m === 0) return '';
  return `±${Math.round(((quantile(values, 0.75) - quantile(values, 0.25)) / 2 / Math.abs(m)) * 100)}%`;
}

const pText = (p: number) => (p >= 0.001 ? p.toFixed(3) : p.toExponential(0));

/** The name a lane shift is shown under: the lane, and "/base" for its ratios to the baseline. */
export function laneLabel(l: LaneShift): string {
  return l.kind === 'raw' ? l.lane : `${l.lane} /base`;
}

/** The name a delta is shown under: the metric, and for a ratio test what it is a ratio to. */
export function deltaLabel(d: MetricDelta): string {
  if (d.kind === 'raw') return d.id;
  const short = d.baseline?.split('/')[1] ?? d.baseline;
  return `${d.id} /${short}`;
}

const worthShowing = (d: MetricDelta) => d.verdict === 'changed';

/** Gating regressions first, then everything else that changed, each group by size of change. */
function shownDeltas(c: Ok): MetricDelta[] {
  const rank = (d: MetricDelta) => (d.regression ? 0 : d.improvement ? 1 : d.informational ? 3 : 2);
  return c.deltas
    .filter(worthShowing)
    .sort((x, y) => rank(x) - rank(y) || Math.abs(y.change) - Math.abs(x.change));
}

/** The first line: the verdict (after `--confirm`, what the re-run showed again). */
export function verdictLine(c: Ok, confirmation: Confirmation | null = null): string {
  if (c.tcg.length > 0) return 'iou-dispatch compare: not judged (QEMU TCG timings), exit 0';
  const plural = (n: number) => `regression${n === 1 ? '' : 's'}`;
  if (confirmation !== null) {
    const flagged = confirmation.items.length;
    const kept = confirmation.items.filter((x) => x.confirmed).length;
    const again = `re-run: ${kept} of ${flagged} flagged seen again`;
    return kept === 0
      ? `iou-dispatch compare: no regression (${again}), exit 0`
      : `iou-dispatch compare: ${kept} ${plural(kept)} (${again}), exit 1`;
  }
  const n = regressionNames(c).length;
  if (n === 0) return 'iou-dispatch compare: no regression, exit 0';
  return `iou-dispatch compare: ${n} ${plural(n)}, exit 1`;
}

/** Under the verdict after `--confirm`: each flagged regression, and below it what the re-run measured. */
export function confirmationLines(confirmation: Confirmation): string[] {
  return confirmation.items.flatMap((x) => [
    `${x.confirmed ? 'CONFIRMED' : 'not again'}  ${x.name}`,
    `           re-run: ${x.again}`,
  ]);
}

/**
 * Each regression in one short line, lanes first, then metrics largest first;
 * a metric whose raw ns and ratio both regressed is one regression.
 */
export function regressionNames(c: Ok): string[] {
  if (c.tcg.length > 0) return [];
  const lanes = c.lanes
    .filter((l) => l.regression)
    .map(
      (l) =>
        `${laneLabel(l)} lane as a whole ${pct(l.change)} [${pct(l.ci95[0])}, ${pct(l.ci95[1])}]`,
    );
  const seen = new Set<string>();
  const metrics: string[] = [];
  for (const d of shownDeltas(c).filter((x) => x.regression)) {
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    metrics.push(`${deltaLabel(d)} ${changeText(d)}`);
  }
  return [...lanes, ...metrics];
}

/** The comparison as text, at most 80 columns, in the robot's order: verdict, sides, lanes, changes. */
export function compareText(
  c: Ok,
  baseName: string,
  newName: string,
  confirmation: Confirmation | null = null,
): string {
  const o = c.options;
  const caveat = tcgCaveat(c);
  // Every regression named right under the verdict (at most 10; the table has all).
  const names = confirmation === null ? regressionNames(c) : confirmationLines(confirmation);
  const shownNames = confirmation === null ? 10 : 2 * 10;
  // The verdict first, each regression under it, then what limits them.
  const out: string[] = [
    verdictLine(c, confirmation),
    ...names.slice(0, shownNames).map((x) => `  ${x}`.slice(0, MAIL_WIDTH)),
    ...(names.length > shownNames
      ? [
          `  and ${names.length - shownNames} more ${confirmation === null ? 'below' : 'in compare.html'}`,
        ]
      : []),
    ...(caveat === null ? [] : wrap(`CAVEAT: ${caveat}`, MAIL_WIDTH)),
    ...(quickCaveat(c) === null ? [] : wrap(`CAVEAT: ${quickCaveat(c)}`, MAIL_WIDTH)),
    ...sideCaveats(c).flatMap((x) => wrap(`CAVEAT ${x}`, MAIL_WIDTH)),
    ...(c.forced.length === 0
      ? []
      : wrap(
          `FORCED: these runs differ, changes may be the difference: ${c.forced.join('; ')}`,
          MAIL_WIDTH,
        )),
  ];
  const sideHead = columns([
    ['', 'base', 'new'],
    ['kernel', c.sides.base.kernel, c.sides.new.kernel],
    ['commit', c.sides.base.commit, c.sides.new.commit],
    ['run', c.sides.base.label, c.sides.new.label],
    ['file', baseName, newName],
  ]);
  out.push('', ...sideHead.map((l) => l.slice(0, MAIL_WIDTH)));

  const family = c.deltas.filter((d) => d.base.length > 1 || d.next.length > 1).length;
  out.push(
    '',
    ...wrap(
      `Lanes as a whole: geometric mean over the lane's metrics of new/base median (raw ns; "/base": their per-round ratios to the lane's baseline), 95% interval from resampling rounds; called when it excludes 0 and exceeds ${(o.noiseBand * 100).toFixed(0)}%.`,
      MAIL_WIDTH,
    ),
  );
  const laneRows = [['lane', 'change', '95% interval', 'metrics', 'rounds', '']];
  for (const l of c.lanes)
    laneRows.push([
      laneLabel(l),
      pct(l.change),
      `${pct(l.ci95[0])}..${pct(l.ci95[1])}`,
      String(l.metrics),
      `${l.rounds[0]}/${l.rounds[1]}`,
      l.regression ? 'REGRESSION' : l.improvement ? 'improved' : l.called ? 'changed' : '~',
    ]);
  out.push(...columns(laneRows).map((l) => `  ${l}`));

  const shown = shownDeltas(c);
  const tooLittle = c.deltas.filter((d) => d.verdict === 'too-little-data').length;
  const same = c.deltas.filter((d) => d.verdict === 'same').length;
  out.push(
    '',
    ...wrap(
      `Metrics: ${c.deltas.length} tests (raw ns, and ratio to the lane's baseline in the same rounds, shown as "/nop", "/none", "/core"); ${shown.length} changed, ${same} no change, ${tooLittle} too few rounds to call alone. Changed means Holm-adjusted Mann-Whitney p < ${o.alpha} over ${family} tests and beyond ${(o.noiseBand * 100).toFixed(0)}%; a regression also exceeds ${(o.threshold * 100).toFixed(0)}%. ± is half the interquartile range.`,
      MAIL_WIDTH,
    ),
    '',
  );
  if (shown.length === 0) out.push('  (no metric changed)');
  else {
    const rows = [['base', 'change', 'new', 'p', 'n']];
    const labels = ['metric'];
    const cell = (v: readonly number[], unit: string) =>
      `${num(median(v), unit)} ${spread(v)}`.trim();
    for (const d of shown) {
      const mark = d.regression
        ? ' REGRESSION'
        : d.improvement
          ? ' improved'
          : d.informational && d.note?.startsWith('raw') === true
            ? ' (raw ns)'
            : d.informational
              ? ' (not gating)'
              : '';
      rows.push([
        cell(d.base, d.unit),
        changeText(d),
        cell(d.next, d.unit),
        d.base.length > 1 ? pText(d.pAdjusted) : 'exact',
        `${d.base.length}/${d.next.length}`,
      ]);
      labels.push(`${deltaLabel(d)}${mark}`);
    }
    // The metric goes last, left-aligned; one too long for the line goes below it, indented.
    const numberLines = columns(rows);
    const width = Math.max(...numberLines.map((l) => l.length));
    numberLines.forEach((numbers, i) => {
      const label = labels[i] ?? '';
      const line = `${numbers.padEnd(width)}  ${label}`;
      if (line.length <= MAIL_WIDTH) out.push(line);
      else out.push(numbers, `    ${label}`.slice(0, MAIL_WIDTH));
    });
  }
  if (c.onlyInBase.length > 0)
    out.push('', ...wrap(`only in ${baseName}: ${c.onlyInBase.join(', ')}`));
  if (c.onlyInNew.length > 0)
    out.push('', ...wrap(`only in ${newName}: ${c.onlyInNew.join(', ')}`));
  return `${out.join('\n')}\n`;
}

const VERDICT_TEXT: Record<Verdict, string> = {
  changed: 'changed',
  same: 'no change',
  'too-little-data': 'too few rounds',
};

/** The comparison as a self-contained HTML page: every test, with its verdict. */
export function compareHtml(
  c: Ok,
  baseName: string,
  newName: string,
  confirmation: Confirmation | null = null,
): string {
  const rowStyle = (reg: boolean, imp: boolean) =>
    reg ? ' style="background:#ffebe9"' : imp ? ' style="background:#dafbe1"' : '';
  const laneRows = c.lanes
    .map(
      (l) =>
        `<tr${rowStyle(l.regression, l.improvement)}><td>${esc(laneLabel(l))}</td><td>${esc(pct(l.change))}</td><td>${esc(pct(l.ci95[0]))}..${esc(pct(l.ci95[1]))}</td><td>${l.metrics}</td><td>${l.rounds[0]}/${l.rounds[1]}</td><td>${l.regression ? 'regression' : l.improvement ? 'improvement' : l.called ? 'changed' : 'no change'}</td></tr>`,
    )
    .join('\n');
  const rows = [...c.deltas]
    .sort(
      (x, y) =>
        Number(worthShowing(y)) - Number(worthShowing(x)) ||
        Math.abs(y.change) - Math.abs(x.change),
    )
    .map((d) => {
      const ci = d.difference === null ? `${pct(d.ci95[0])}..${pct(d.ci95[1])}` : '';
      const what = d.regression
        ? 'regression'
        : d.improvement
          ? 'improvement'
          : `${VERDICT_TEXT[d.verdict]}${d.note !== null && d.verdict === 'changed' ? ` (${d.note})` : ''}`;
      return `<tr${rowStyle(d.regression, d.improvement)}><td>${esc(deltaLabel(d))}</td><td>${esc(num(median(d.base), d.unit))} ${esc(spread(d.base))}</td><td>${esc(changeText(d))}</td><td>${esc(ci)}</td><td>${esc(pText(d.pAdjusted))}</td><td>${d.base.length}/${d.next.length}</td><td>${esc(num(median(d.next), d.unit))} ${esc(spread(d.next))}</td><td>${esc(what)}</td></tr>`;
    })
    .join('\n');
  const banners = [
    tcgCaveat(c),
    quickCaveat(c),
    ...sideCaveats(c),
    c.forced.length > 0 ? `forced: the runs differ: ${c.forced.join('; ')}` : null,
  ]
    .filter((x): x is string => x !== null)
    .map(
      (x) =>
        `<p style="background:#fff8c5;border:2px solid #9a6700;padding:.6em;font-weight:bold">Caveat: ${esc(x)}</p>\n`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>iou-dispatch compare</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}td:first-child,th:first-child{text-align:left}</style>
</head><body>
<h1>iou-dispatch compare</h1>
${banners}<p><strong>${esc(verdictLine(c, confirmation))}</strong></p>
${
  confirmation === null
    ? ''
    : `<ul>${confirmationLines(confirmation)
        .map((x) => `<li>${esc(x)}</li>`)
        .join('')}</ul>\n`
}<table><thead><tr><th></th><th>base</th><th>new</th></tr></thead><tbody>
<tr><td>kernel</td><td>${esc(c.sides.base.kernel)}</td><td>${esc(c.sides.new.kernel)}</td></tr>
<tr><td>commit</td><td>${esc(c.sides.base.commit)}</td><td>${esc(c.sides.new.commit)}</td></tr>
<tr><td>run</td><td>${esc(c.sides.base.label)}</td><td>${esc(c.sides.new.label)}</td></tr>
<tr><td>file</td><td>${esc(baseName)}</td><td>${esc(newName)}</td></tr>
</tbody></table>
<h2>Lanes as a whole</h2>
<p>Geometric mean over the lane's metrics of new/base median; 95 % interval from resampling rounds.</p>
<table><thead><tr><th>lane</th><th>change</th><th>95 % interval</th><th>metrics</th><th>rounds</th><th></th></tr></thead>
<tbody>
${laneRows}
</tbody></table>
<h2>Every test</h2>
<p>Change of the median (raw, or of the per-round ratio to the lane's baseline, "/nop"); p is Holm-adjusted Mann-Whitney across all tests; n is rounds base/new; ± is half the interquartile range.</p>
<table><thead><tr><th>metric</th><th>base</th><th>change</th><th>95 % interval</th><th>p</th><th>n</th><th>new</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
