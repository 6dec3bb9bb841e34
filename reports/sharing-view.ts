// The contention curve: for each thread count N (N rings, one per thread),
// how much slower every ring using the same object is than each ring its
// own, as the median of per-round ratios with its 95 % interval, per lane:
//   kernel       <x>-same over <x>-own stand-ins (one file or one registered
//                file shared by every ring, or each ring its own)
//   native       each C design's pure loop, shared programs over own
//   bpf-standin  the hash shape (one key every ring looks up) over per-ring
//                (each ring its own key); a tracepoint program is one for the
//                whole system, so the lane has no own-program side, and the
//                two lookups differ in key as well: read the change with N,
//                not the level.
// Reads results only; measures nothing.

import type { LaneResult, Metric, Results } from '../bench/results.js';
import type { Summary } from '../bench/stats.js';
import { sharedOverOwn } from './native-view.js';

export interface SharingPoint {
  readonly threads: number;
  readonly ratio: Summary;
}

export interface SharingCurve {
  readonly lane: 'kernel' | 'native' | 'bpf-standin';
  /** 'file-same/file-own', 'per-fd shared/own', 'hash/per-ring'. */
  readonly pair: string;
  readonly batch: number;
  /** Ascending thread counts where both sides ran. */
  readonly points: readonly SharingPoint[];
}

const sorted = (xs: Iterable<number>) => [...new Set(xs)].sort((a, b) => a - b);

function okLane(r: Results, name: string): LaneResult | undefined {
  return r.lanes.find((l) => l.lane === name && l.status === 'ok');
}

/** A curve over every thread count at which `same` and `own` both have a metric; null when none has. */
function curve(
  lane: SharingCurve['lane'],
  pair: string,
  batch: number,
  threads: readonly number[],
  at: (side: 'same' | 'own', t: number) => Metric | undefined,
): SharingCurve | null {
  const points: SharingPoint[] = [];
  for (const t of threads) {
    const ratio = sharedOverOwn(at('same', t), at('own', t));
    if (ratio !== null) points.push({ threads: t, ratio });
  }
  return points.length === 0 ? null : { lane, pair, batch, points };
}

function kernelCurves(lane: LaneResult): SharingCurve[] {
  const m = lane.metrics.filter((x) => typeof x.labels.standin === 'string');
  const batch = Math.max(0, ...m.map((x) => x.labels.batch).filter((b) => typeof b === 'number'));
  const threads = sorted(m.map((x) => x.labels.threads as number));
  const bases = [...new Set(m.map((x) => String(x.labels.standin)))]
    .filter((s) => s.endsWith('-same'))
    .map((s) => s.slice(0, -'-same'.length));
  const at = (standin: string, t: number) =>
    m.find(
      (x) => x.labels.standin === standin && x.labels.batch === batch && x.labels.threads === t,
    );
  return bases
    .map((b) =>
      curve('kernel', `${b}-same/${b}-own`, batch, threads, (side, t) => at(`${b}-${side}`, t)),
    )
    .filter((c): c is SharingCurve => c !== null);
}

function nativeCurves(lane: LaneResult): SharingCurve[] {
  const pure = lane.metrics.filter((x) => x.labels.loop === 'pure' && x.labels.programs === 1);
  const batch = Math.max(0, ...pure.map((x) => x.labels.batch as number));
  const threads = sorted(pure.map((x) => x.labels.threads as number));
  const designs = [...new Set(pure.map((x) => String(x.labels.design)))];
  return designs
    .map((d) =>
      curve('native', `${d} shared/own`, batch, threads, (side, t) =>
        pure.find(
          (x) =>
            x.labels.design === d &&
            x.labels.batch === batch &&
            x.labels.threads === t &&
            x.labels.sharing === (side === 'same' ? 'shared' : 'own'),
        ),
      ),
    )
    .filter((c): c is SharingCurve => c !== null);
}

function bpfCurves(lane: LaneResult): SharingCurve[] {
  const batch = Math.max(0, ...lane.metrics.map((x) => x.labels.batch as number));
  const threads = sorted(lane.metrics.map((x) => x.labels.threads as number));
  const at = (shape: string, t: number) =>
    lane.metrics.find(
      (x) => x.labels.shape === shape && x.labels.batch === batch && x.labels.threads === t,
    );
  const c = curve('bpf-standin', 'hash/per-ring', batch, threads, (side, t) =>
    at(side === 'same' ? 'hash' : 'per-ring', t),
  );
  return c === null ? [] : [c];
}

/** Every lane's same/own curves, kernel then bpf-standin then native; a lane that did not run has none. */
export function sharingCurves(r: Results): SharingCurve[] {
  const kernel = okLane(r, 'kernel');
  const bpf = okLane(r, 'bpf-standin');
  const native = okLane(r, 'native');
  return [
    ...(kernel === undefined ? [] : kernelCurves(kernel)),
    ...(bpf === undefined ? [] : bpfCurves(bpf)),
    ...(native === undefined ? [] : nativeCurves(native)),
  ];
}

/** Whether any curve has a point above one thread: a run that measured sharing at all. */
export function hasSharingCurve(curves: readonly SharingCurve[]): boolean {
  return curves.some((c) => c.points.some((p) => p.threads > 1));
}
