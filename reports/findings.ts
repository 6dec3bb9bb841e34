// The headline findings every report leads with, computed once from
// results.json: per design, its stand-ins' cost over plain NOP, what
// sharing one file across rings costs, and the memory it adds at 100 rings.
// Reads results only; measures nothing.

import type { LaneResult, Metric, Results } from '../bench/results.js';
import { compareSamples, perRoundRatios, type Summary, summarize } from '../bench/stats.js';
import { POSTED_DESIGNS } from '../designs/registry.js';
import type { FuzzReport } from '../fuzz/matrix.js';
import { kernelGrid } from './kernel-view.js';
import { nativeView } from './native-view.js';

/** The per-round ratio of `shared` to `own`, and whether it is a difference (DESIGN.md 5). */
function sharedAgainstOwn(shared: Metric, own: Metric): { ratio: Summary; called: boolean } {
  return {
    ratio: summarize(perRoundRatios(shared.values, own.values)),
    called: compareSamples(own.values, shared.values).called,
  };
}

export interface CostFinding {
  readonly standin: string;
  readonly batch: number;
  readonly threads: number;
  readonly nsPerReq: Summary;
  /** Per-round ratio to plain NOP at the same batch and threads. */
  readonly vsNop: Summary | null;
}

export interface SharingFinding {
  readonly same: string;
  readonly own: string;
  readonly batch: number;
  readonly threads: number;
  /** Per-round ratio of the shared file to each thread's own. */
  readonly ratio: Summary;
  /** Significant (Mann-Whitney) and above the noise band: only then is it a difference. */
  readonly called: boolean;
}

export interface DesignFinding {
  readonly design: string;
  readonly title: string;
  readonly costs: readonly CostFinding[];
  readonly sharing: readonly SharingFinding[];
  /** Bytes at 100 rings x 16 programs, or why it does not fit; null when the memory lane did not run. */
  readonly memoryShared: number | string | null;
  readonly memoryOwn: number | string | null;
  /** C design, pure loop at the largest batch and thread count: same programs over own, per round; null when not measured. */
  readonly nativeSharing: {
    readonly threads: number;
    readonly ratio: Summary;
    readonly called: boolean;
  } | null;
  readonly safety: string;
}

export interface Findings {
  readonly designs: readonly DesignFinding[];
  /** Plain NOP at the largest batch, one thread: the reference every ratio is to. */
  readonly nop: CostFinding | null;
  readonly headline: readonly string[];
}

export const MEMORY_RINGS = 100;
export const MEMORY_PROGRAMS = 16;

const laneOf = (r: Results, name: string): LaneResult | undefined =>
  r.lanes.find((l) => l.lane === name && l.status === 'ok');

function costOf(m: Metric): CostFinding {
  const isNop = m.labels.standin === 'nop';
  return {
    standin: String(m.labels.standin),
    batch: m.labels.batch as number,
    threads: m.labels.threads as number,
    nsPerReq: m.summary,
    // The baseline is 1.00x of itself in every round.
    vsNop: isNop ? summarize(perRoundRatios(m.values, m.values)) : (m.vsBaseline?.ratio ?? null),
  };
}

/** Stand-ins on the io-wq path (IOSQE_ASYNC) measure the punt, not the lookup. */
const isAsync = (c: CostFinding) => c.standin.endsWith('-async');

function memoryOf(r: Results, design: string, sharing: string): number | string | null {
  const lane = laneOf(r, 'memory');
  if (lane === undefined) return null;
  const id = `memory/${design}/r${MEMORY_RINGS}/p${MEMORY_PROGRAMS}/${sharing}`;
  const m = lane.metrics.find((x) => x.id === id);
  if (m !== undefined) return m.summary.median;
  const details = lane.details as {
    breakdowns?: { id: string; doesNotFit: string | null }[];
  } | null;
  return details?.breakdowns?.find((b) => b.id === id)?.doesNotFit ?? null;
}

/** The properties the fuzz lane found violated for `design`, or why there is no verdict. */
function safetyOf(r: Results, design: string): string {
  const lane = laneOf(r, 'fuzz');
  if (lane === undefined) return 'not fuzzed';
  const report = lane.details as unknown as FuzzReport | null;
  const mine = report?.results.filter((x) => x.design === design && x.mutant === null) ?? [];
  if (mine.length === 0) return 'not fuzzed';
  // One job per property and caller protocol: name each violated property once.
  const violated = [
    ...new Set(mine.filter((x) => x.verdict === 'violated').map((x) => x.property)),
  ];
  return violated.length === 0 ? 'none' : violated.join(', ');
}

/** Formats bytes as B, KiB or MiB. */
export function bytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Formats a ratio as a signed percentage: 1.016 is +1.6%. */
export function pct(ratio: number): string {
  const p = (ratio - 1) * 100;
  return `${p >= 0 ? '+' : ''}${p.toFixed(1)}%`;
}

function env(r: Results): { kernel: string; cpu: string } {
  const e = r.environment as {
    kernel?: { release?: string };
    cpu?: { model?: string; count?: number };
  } | null;
  return {
    kernel: e?.kernel?.release ?? 'unknown kernel',
    cpu: `${e?.cpu?.model ?? 'unknown CPU'} x${e?.cpu?.count ?? '?'}`,
  };
}

function headline(
  r: Results,
  designs: readonly DesignFinding[],
  nop: CostFinding | null,
): string[] {
  const { kernel, cpu } = env(r);
  const out: string[] = [];
  if (nop === null) {
    const k = r.lanes.find((l) => l.lane === 'kernel');
    out.push(`The kernel lane did not run on Linux ${kernel} (${k?.reason ?? 'not selected'}).`);
  } else {
    out.push(
      `On Linux ${kernel} (${cpu}), a plain NOP costs ${nop.nsPerReq.median.toFixed(1)} ns/request at batch ${nop.batch}.`,
    );
    const parts = designs
      .filter((d) => d.costs.some((c) => !isAsync(c)))
      .map((d) => {
        const ratios = d.costs
          .filter((c) => !isAsync(c))
          .map((c) => c.vsNop?.median ?? Number.NaN)
          .filter(Number.isFinite);
        const lo = Math.min(...ratios);
        const hi = Math.max(...ratios);
        const range =
          Math.abs(hi - lo) < 0.005 ? `${lo.toFixed(2)}x` : `${lo.toFixed(2)}-${hi.toFixed(2)}x`;
        return `${d.design} ${range}`;
      });
    if (parts.length > 0)
      out.push(`Each design's stand-in lookups cost, relative to that: ${parts.join(', ')}.`);
    const async = designs.flatMap((d) => d.costs.filter(isAsync));
    if (async[0]?.vsNop != null) {
      out.push(
        `The io-wq path (IOSQE_ASYNC), where v1 reads its table under SRCU, costs ${async[0].vsNop.median.toFixed(2)}x.`,
      );
    }
    const sharing = designs.flatMap((d) => d.sharing.map((s) => ({ design: d.design, s })));
    const seen = new Set<string>();
    for (const { design, s } of sharing) {
      if (seen.has(s.same)) continue;
      seen.add(s.same);
      const verdict = s.called ? '' : ', within noise';
      out.push(
        `With ${s.threads} threads on one shared file, ${s.same} costs ${pct(s.ratio.median)} over ${s.own} (${design}${verdict}).`,
      );
    }
  }
  const native = designs.filter((d) => d.nativeSharing !== null);
  const first = native[0]?.nativeSharing;
  if (first != null) {
    // A difference is named only when it is significant and above the noise band (DESIGN.md 5).
    const called = native.filter((d) => d.nativeSharing?.called === true);
    const rest = native.filter((d) => d.nativeSharing?.called !== true).map((d) => d.design);
    const parts = called.map(
      (d) => `${d.design} ${pct(d.nativeSharing?.ratio.median ?? Number.NaN)}`,
    );
    const others = rest.length === 0 ? '' : `; ${rest.join(', ')}: no difference above noise`;
    out.push(
      parts.length === 0
        ? `In the C designs with ${first.threads} threads, every ring naming the same programs instead of its own makes no difference above noise for any design.`
        : `In the C designs with ${first.threads} threads, every ring naming the same programs instead of its own costs ${parts.join(', ')}${others}.`,
    );
  }
  const memory = designs.filter((d) => d.memoryShared !== null);
  if (memory.length > 0) {
    const text = memory
      .map(
        (d) =>
          `${d.design} ${typeof d.memoryShared === 'number' ? bytes(d.memoryShared) : 'does not fit'}`,
      )
      .join(', ');
    out.push(
      `At ${MEMORY_RINGS} rings sharing ${MEMORY_PROGRAMS} programs, the designs add: ${text}.`,
    );
  }
  const fuzz = laneOf(r, 'fuzz');
  if (fuzz === undefined) out.push('Safety verdicts: the fuzz lane did not run.');
  else {
    const text = designs.map((d) => `${d.design} ${d.safety}`).join('; ');
    out.push(`Safety (fuzzed models, properties violated): ${text}.`);
  }
  if (!r.complete) out.push(`This run is INCOMPLETE: ${r.incompleteReason}.`);
  return out;
}

/** Findings for every design as posted, from one results file. */
export function findings(r: Results): Findings {
  const grid = kernelGrid(laneOf(r, 'kernel'));
  const cells = grid.cells;
  const maxBatch = Math.max(...grid.batches);
  const minThreads = Math.min(...grid.threads);
  const maxThreads = Math.max(...grid.threads);
  const at = (standin: string, t: number) => grid.at(standin, maxBatch, t);
  const nopMetric = at('nop', minThreads);
  const nv = nativeView(laneOf(r, 'native'));
  const nThreads = Math.max(...nv.threads);
  const nativeSharing = (name: string) => {
    if (nThreads < 2) return null;
    const shared = nv.at(name, 'pure', 'shared', 1, nv.batch, nThreads);
    const own = nv.at(name, 'pure', 'own', 1, nv.batch, nThreads);
    return shared === undefined || own === undefined
      ? null
      : { threads: nThreads, ...sharedAgainstOwn(shared, own) };
  };
  const designs = POSTED_DESIGNS.map((d): DesignFinding => {
    const mine = cells.filter(
      (m) =>
        String(m.labels.designs).split(' ').includes(d.id) &&
        m.labels.batch === maxBatch &&
        m.labels.threads === minThreads,
    );
    const sharing: SharingFinding[] = [];
    if (maxThreads > 1) {
      for (const same of mine.filter((m) => m.labels.sharing === 'same')) {
        const own = at(String(same.labels.standin).replace(/-same$/, '-own'), maxThreads);
        const shared = at(String(same.labels.standin), maxThreads);
        if (own === undefined || shared === undefined) continue;
        sharing.push({
          same: String(shared.labels.standin),
          own: String(own.labels.standin),
          batch: maxBatch,
          threads: maxThreads,
          ...sharedAgainstOwn(shared, own),
        });
      }
    }
    return {
      design: d.id,
      title: d.title,
      costs: mine.map(costOf),
      sharing,
      memoryShared: memoryOf(r, d.name, 'shared'),
      memoryOwn: memoryOf(r, d.name, 'per-ring'),
      nativeSharing: nativeSharing(d.name),
      safety: safetyOf(r, d.name),
    };
  });
  const nop = nopMetric === undefined ? null : costOf(nopMetric);
  return { designs, nop, headline: headline(r, designs, nop) };
}
