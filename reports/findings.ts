// The headline findings every report leads with, computed once from
// results.json: at most six claims, each quotable on its own, each naming
// the lane it comes from and carrying its 95 % interval, and the table of
// which kernel stand-in (and BPF shape) stands in for which design.
// Reads results only; measures nothing.
//
// One definition per number (DESIGN.md 5): every ratio here is the median
// of per-round ratios (each round's value over its baseline measured in the
// same round) with the 95 % bootstrap interval of that median; every
// difference is the median of per-round differences, likewise. The tables
// of every report print the same numbers through the same formatters
// (fmtRatio, fmtDiff), so a sentence and its table never disagree.

import type { LaneResult, Metric, Results } from '../bench/results.js';
import { perRoundDiffs, perRoundRatios, type Summary, summarize } from '../bench/stats.js';
import { POSTED_DESIGNS } from '../designs/registry.js';
import type { FuzzReport } from '../fuzz/matrix.js';
import { threadsCouldRunInParallel } from './caveats.js';
import { kernelGrid } from './kernel-view.js';
import { nativeView } from './native-view.js';
import {
  DIFF_DEF,
  diffResolved,
  fmtDiff,
  fmtRatio,
  intervalWidth,
  RATIO_DEF,
  ratioResolved,
} from './numbers.js';

export {
  DIFF_DEF,
  diffResolved,
  fmtDiff,
  fmtRatio,
  NOISE_BAND,
  RATIO_DEF,
  ratioResolved,
  ratioVerdict,
} from './numbers.js';

/** One number a headline claim quotes, and where it comes from in results.json. */
export interface Figure {
  /** The text quoted, exactly as the tables print it. */
  readonly text: string;
  /** ratio: median of per-round ratios of `of` over `over`; diff: of per-round differences; ns: `of`'s median. */
  readonly kind: 'ratio' | 'diff' | 'ns';
  readonly of: string;
  readonly over: string | null;
  readonly summary: Summary;
}

/** One headline bullet: a claim that can be quoted alone. */
export interface Claim {
  readonly lane: string;
  readonly text: string;
  readonly figures: readonly Figure[];
}

/** Which kernel stand-ins and BPF shapes stand in for a design, and which designs share them. */
export interface StandinRow {
  readonly design: string;
  readonly standins: readonly string[];
  readonly shapes: readonly string[];
  /** Designs measured by the very same stand-ins: their numbers are one result, not two. */
  readonly sharesWith: readonly string[];
}

export interface CostFinding {
  readonly standin: string;
  readonly batch: number;
  readonly threads: number;
  readonly nsPerReq: Summary;
  /** Median of per-round ratios to plain NOP at the same batch and threads. */
  readonly vsNop: Summary | null;
}

export interface SharingFinding {
  readonly same: string;
  readonly own: string;
  readonly batch: number;
  readonly threads: number;
  /** Median of per-round ratios of the shared file to each thread's own. */
  readonly ratio: Summary;
  /** Interval excludes 1 and above the noise band: only then is it a difference. */
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
  /** The headline bullets (at most six), as text. */
  readonly headline: readonly string[];
  /** The same bullets with the figures each quotes. */
  readonly claims: readonly Claim[];
  readonly standins: readonly StandinRow[];
}

export const MEMORY_RINGS = 100;
export const MEMORY_PROGRAMS = 16;
export const MAX_HEADLINE = 6;

const laneOf = (r: Results, name: string): LaneResult | undefined =>
  r.lanes.find((l) => l.lane === name && l.status === 'ok');

const ratioOf = (of: Metric, over: Metric): Summary =>
  summarize(perRoundRatios(of.values, over.values));

function costOf(m: Metric): CostFinding {
  const isNop = m.labels.standin === 'nop';
  return {
    standin: String(m.labels.standin),
    batch: m.labels.batch as number,
    threads: m.labels.threads as number,
    nsPerReq: m.summary,
    // The baseline is 1.00x of itself in every round.
    vsNop: isNop ? ratioOf(m, m) : (m.vsBaseline?.ratio ?? null),
  };
}

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

/**
 * The stand-ins the headline quotes: each design's per-request primitive
 * (DESIGN.md 4, "Kernel stand-ins"). Left to the table: plain NOP (the
 * baseline), nop-async (the io-wq punt itself, no design lookup), the -same
 * twin of each -own stand-in (identical at one thread) and fixed-buffer (a
 * second registered-node lookup beside fixed-own).
 */
const isPrimary = (standin: string) =>
  !['nop', 'nop-async', 'fixed-buffer'].includes(standin) && !standin.endsWith('-same');

/** The stand-in names of the kernel lane without their -same/-own suffix, in lane order. */
const baseName = (standin: string) => standin.replace(/-(same|own)$/, '');

/** Which stand-ins and shapes measure each posted design, from the lanes' `designs` labels. */
export function standinTable(r: Results): StandinRow[] {
  const kernel = kernelGrid(laneOf(r, 'kernel'));
  const bpf = laneOf(r, 'bpf-standin')?.metrics ?? [];
  const names = (ms: readonly Metric[], label: string, id: string) => [
    ...new Set(
      ms
        .filter((m) =>
          String(m.labels.designs ?? '')
            .split(' ')
            .includes(id),
        )
        .map((m) => String(m.labels[label])),
    ),
  ];
  const rows = POSTED_DESIGNS.map((d) => ({
    design: d.id,
    standins: [...new Set(names(kernel.cells, 'standin', d.id).map(baseName))],
    shapes: names(bpf, 'shape', d.id),
  }));
  const key = (x: { standins: readonly string[] }) => x.standins.join(' ');
  return rows.map((x) => ({
    ...x,
    sharesWith:
      x.standins.length === 0
        ? []
        : rows.filter((y) => y.design !== x.design && key(y) === key(x)).map((y) => y.design),
  }));
}

function env(r: Results): { kernel: string } {
  const e = r.environment as { kernel?: { release?: string } } | null;
  return { kernel: e?.kernel?.release ?? 'unknown kernel' };
}

/** One quoted figure with the name it is quoted under. */
interface Item {
  readonly name: string;
  readonly figure: Figure;
  readonly resolved: boolean;
}

/** The width of `f`'s interval from its bounds as the tables print them, so a reader gets the same. */
export function widthText(f: Figure): string {
  return f.kind === 'ratio' ? intervalWidth(f.summary, 3) : `${intervalWidth(f.summary, 1)}ns`;
}

/**
 * Resolved items with their figure; the others named together as not
 * resolved, with how wide their intervals were (never as a difference).
 */
function listItems(items: readonly Item[]): string {
  const yes = items.filter((i) => i.resolved).map((i) => `${i.name} ${i.figure.text}`);
  const no = items.filter((i) => !i.resolved);
  if (no.length > 0) {
    const widths = no.map((i) => i.figure.summary.ci95[1] - i.figure.summary.ci95[0]);
    const lo = no[widths.indexOf(Math.min(...widths))] as Item;
    const hi = no[widths.indexOf(Math.max(...widths))] as Item;
    const span =
      no.length === 1 || widthText(lo.figure) === widthText(hi.figure)
        ? `${widthText(lo.figure)} wide`
        : `${widthText(lo.figure)} to ${widthText(hi.figure)} wide`;
    const only = no.length === 1 ? no[0] : undefined;
    // "x (per-ctx; interval 1.2 wide)" rather than two parentheses in a row.
    yes.push(
      only?.name.endsWith(')') === true
        ? `not resolved: ${only.name.slice(0, -1)}; interval ${span})`
        : `not resolved: ${no.map((i) => i.name).join(', ')} (interval${no.length > 1 ? 's' : ''} ${span})`,
    );
  }
  return yes.join('; ');
}

/** What the kernel is: the first bullet, so no stand-in ratio is read as a design's cost. */
function kernelClaim(r: Results): Claim {
  const { kernel } = env(r);
  const patched = r.lanes.find((l) => l.lane === 'patched');
  const d = patched?.details as { present?: boolean; matches?: string[] } | null | undefined;
  let text: string;
  if (d?.present === true)
    text = `Kernel ${kernel} has IORING_OP_BPF (${(d.matches ?? []).join('/') || 'unknown'} UAPI, found by probing, patched lane); costs marked "stand-in" still come from stock mechanisms, not the designs.`;
  else if (d?.present === false)
    text = `Kernel ${kernel}, stock: no IORING_OP_BPF (probed). Every cost below is a stand-in's (a stock mechanism a design would use), not a design's.`;
  else
    text = `Kernel ${kernel}, not probed for IORING_OP_BPF (patched lane not run). Every cost below is a stand-in's, not a design's.`;
  return { lane: 'patched', text, figures: [] };
}

/** IORING_OP_BPF itself over plain NOP, when the patched lane ran. */
function patchedClaim(r: Results): Claim | null {
  const lane = laneOf(r, 'patched');
  if (lane === undefined) return null;
  const cells = lane.metrics.filter(
    (m) => m.vsBaseline !== null && typeof m.labels.batch === 'number',
  );
  if (cells.length === 0) return null;
  const batch = Math.max(...cells.map((m) => m.labels.batch as number));
  const threads = Math.min(...cells.map((m) => m.labels.threads as number));
  const mine = cells.filter((m) => m.labels.batch === batch && m.labels.threads === threads);
  const figures = mine.map(
    (m): Figure => ({
      text: fmtRatio(m.vsBaseline?.ratio as Summary),
      kind: 'ratio',
      of: m.id,
      over: m.vsBaseline?.baseline ?? null,
      summary: m.vsBaseline?.ratio as Summary,
    }),
  );
  const items = mine.map((m, i) => {
    const figure = figures[i] as Figure;
    return { name: String(m.labels.variant), figure, resolved: ratioResolved(figure.summary) };
  });
  return {
    lane: 'patched',
    text: `IORING_OP_BPF over plain IORING_OP_NOP on the same ring (patched lane, batch ${batch}, ${threads} thread), ${RATIO_DEF}: ${listItems(items)}.`,
    figures,
  };
}

/** Each design's stand-in over plain NOP, one thread, largest batch. */
function standinClaim(r: Results): Claim | null {
  const grid = kernelGrid(laneOf(r, 'kernel'));
  if (grid.cells.length === 0) return null;
  const b = Math.max(...grid.batches);
  const t = Math.min(...grid.threads);
  const nop = grid.at('nop', b, t);
  if (nop === undefined) return null;
  const figures: Figure[] = [
    {
      text: nop.summary.median.toFixed(1),
      kind: 'ns',
      of: nop.id,
      over: null,
      summary: nop.summary,
    },
  ];
  const items: Item[] = [];
  for (const s of grid.standins.filter(isPrimary)) {
    const m = grid.at(s, b, t);
    if (m?.vsBaseline == null) continue;
    // The deepest personality level measured: the xarray walk at its longest.
    const deepest = grid.standins.filter((x) => /^personality-d\d+$/.test(x)).at(-1);
    if (s.startsWith('personality-d') && s !== deepest) continue;
    const f: Figure = {
      text: fmtRatio(m.vsBaseline.ratio),
      kind: 'ratio',
      of: m.id,
      over: m.vsBaseline.baseline,
      summary: m.vsBaseline.ratio,
    };
    figures.push(f);
    const designs = String(m.labels.designs ?? '')
      .split(' ')
      .join(', ');
    items.push({ name: `${s} (${designs})`, figure: f, resolved: ratioResolved(f.summary) });
  }
  return {
    lane: 'kernel',
    text: `Stand-ins over plain NOP (${figures[0]?.text} ns/request; kernel lane, batch ${b}, ${t} thread), ${RATIO_DEF}: ${listItems(items)}. global-array's stand-in is NOP itself: no ratio.`,
    figures,
  };
}

/** No sharing result when the lane's threads had fewer CPUs than threads: they took turns. */
function crowdedClaim(lane: string, threads: number): Claim {
  return {
    lane,
    text: `Sharing across ${threads} threads (${lane} lane): no result, the run had fewer usable CPUs than ${threads}, so its threads took turns instead of running together (stamp at the top).`,
    figures: [],
  };
}

/** One file shared by every thread against a file each, at the largest thread count. */
function sharingClaim(r: Results, designs: readonly DesignFinding[]): Claim | null {
  const all = designs.flatMap((d) => d.sharing);
  const seen = new Set<string>();
  const pairs = all.filter((s) => !seen.has(s.same) && seen.add(s.same));
  const first = pairs[0];
  if (first === undefined) return null;
  if (!threadsCouldRunInParallel(r, first.threads, 'kernel'))
    return crowdedClaim('kernel', first.threads);
  const grid = kernelGrid(laneOf(r, 'kernel'));
  const figures: Figure[] = pairs.map((s) => ({
    text: fmtRatio(s.ratio),
    kind: 'ratio',
    of: grid.at(s.same, s.batch, s.threads)?.id ?? s.same,
    over: grid.at(s.own, s.batch, s.threads)?.id ?? s.own,
    summary: s.ratio,
  }));
  const items = pairs.map((s, i) => ({
    name: `${s.same}/${s.own}`,
    figure: figures[i] as Figure,
    resolved: s.called,
  }));
  return {
    lane: 'kernel',
    text: `${first.threads} threads on one shared file over a file each (kernel lane, batch ${first.batch}), ${RATIO_DEF}: ${listItems(items)}.`,
    figures,
  };
}

/** What a BPF program that finds its callee adds over the same NOPs with no program. */
function bpfClaim(r: Results): Claim | null {
  const lane = laneOf(r, 'bpf-standin');
  if (lane === undefined) return null;
  const cells = lane.metrics.filter((m) => typeof m.labels.batch === 'number');
  if (cells.length === 0) return null;
  const b = Math.max(...cells.map((m) => m.labels.batch as number));
  const t = Math.min(...cells.map((m) => m.labels.threads as number));
  const at = (shape: string) =>
    cells.find((m) => m.labels.shape === shape && m.labels.batch === b && m.labels.threads === t);
  const figures: Figure[] = [];
  const items: Item[] = [];
  for (const m of cells.filter((x) => x.labels.batch === b && x.labels.threads === t)) {
    const base = at(String(m.labels.baseline));
    if (base === undefined || base === m) continue;
    const s = summarize(perRoundDiffs(m.values, base.values));
    const f: Figure = { text: fmtDiff(s), kind: 'diff', of: m.id, over: base.id, summary: s };
    figures.push(f);
    const designs = String(m.labels.designs ?? '');
    items.push({
      name: `${m.labels.shape}${designs === '' ? '' : ` (${designs.split(' ').join(', ')})`}`,
      figure: f,
      resolved: diffResolved(s, base.summary.median),
    });
  }
  if (figures.length === 0) return null;
  return {
    lane: 'bpf-standin',
    text: `A BPF program finding its callee per request (bpf-standin lane, stock tracepoints, batch ${b}, ${t} thread), ns added over no program, ${DIFF_DEF}: ${listItems(items)}.`,
    figures,
  };
}

/** The C designs: every ring on the same programs against each ring its own. */
function nativeClaim(r: Results, designs: readonly DesignFinding[]): Claim | null {
  const native = designs.filter((d) => d.nativeSharing !== null);
  const first = native[0]?.nativeSharing;
  if (first == null) return null;
  if (!threadsCouldRunInParallel(r, first.threads, 'native'))
    return crowdedClaim('native', first.threads);
  const v = nativeView(laneOf(r, 'native'));
  const name = POSTED_DESIGNS.map((d) => [d.id, d.name] as const);
  const nameOf = (id: string) => name.find(([x]) => x === id)?.[1] ?? id;
  // The control: 'core' runs the same code whether its rings are called "same" or "own".
  // Where its ratio is resolved, the 2-thread cells measured where and when the workers
  // ran (placement, SMT siblings, other load), not sharing: no design result is stated.
  const coreShared = v.at('core', 'pure', 'shared', 1, v.batch, first.threads);
  const coreOwn = v.at('core', 'pure', 'own', 1, v.batch, first.threads);
  if (coreShared !== undefined && coreOwn !== undefined) {
    const control = ratioOf(coreShared, coreOwn);
    if (ratioResolved(control)) {
      const f: Figure = {
        text: fmtRatio(control),
        kind: 'ratio',
        of: coreShared.id,
        over: coreOwn.id,
        summary: control,
      };
      return {
        lane: 'native',
        text: `C models (native lane; pure loop, batch ${v.batch}, ${first.threads} threads), same programs over each its own: no result in this run; the control (core, identical code either way) measured ${f.text}, so these cells show where the workers ran, not sharing.`,
        figures: [f],
      };
    }
  }
  const figures: Figure[] = native.map((d) => {
    const s = d.nativeSharing as NonNullable<DesignFinding['nativeSharing']>;
    return {
      text: fmtRatio(s.ratio),
      kind: 'ratio',
      of: v.at(nameOf(d.design), 'pure', 'shared', 1, v.batch, s.threads)?.id ?? d.design,
      over: v.at(nameOf(d.design), 'pure', 'own', 1, v.batch, s.threads)?.id ?? d.design,
      summary: s.ratio,
    };
  });
  const items = native.map((d, i) => ({
    name: d.design,
    figure: figures[i] as Figure,
    resolved: d.nativeSharing?.called === true,
  }));
  return {
    lane: 'native',
    text: `C models (native lane, not the kernel; pure loop, batch ${v.batch}, ${first.threads} threads), rings on the same programs over each its own, ${RATIO_DEF}: ${listItems(items)}.`,
    figures,
  };
}

function safetyClaim(r: Results, designs: readonly DesignFinding[]): Claim {
  const lane = laneOf(r, 'fuzz');
  if (lane === undefined)
    return { lane: 'fuzz', text: 'Safety: the fuzz lane did not run.', figures: [] };
  const report = lane.details as unknown as FuzzReport | null;
  const properties = new Set(report?.results.map((x) => x.property) ?? []).size;
  const count = (d: DesignFinding) =>
    d.safety === 'none'
      ? '0'
      : d.safety === 'not fuzzed'
        ? 'not fuzzed'
        : String(d.safety.split(', ').length);
  const text = designs.map((d) => `${d.design} ${count(d)}`).join(', ');
  return {
    lane: 'fuzz',
    text: `Safety in the TypeScript models (fuzz lane), properties violated of ${properties} checked: ${text} (which: the safety matrix).`,
    figures: [],
  };
}

function memoryClaim(r: Results, designs: readonly DesignFinding[]): Claim | null {
  const memory = designs.filter((d) => d.memoryShared !== null);
  if (memory.length === 0 || laneOf(r, 'memory') === undefined) return null;
  const text = memory
    .map(
      (d) =>
        `${d.design} ${typeof d.memoryShared === 'number' ? bytes(d.memoryShared) : 'does not fit'}`,
    )
    .join(', ');
  return {
    lane: 'memory',
    text: `Memory added at ${MEMORY_RINGS} rings sharing ${MEMORY_PROGRAMS} programs (memory lane, models): ${text}.`,
    figures: [],
  };
}

/** At most six claims, most direct evidence first; what does not fit stays in the tables. */
function claimsOf(r: Results, designs: readonly DesignFinding[]): Claim[] {
  const all = [
    kernelClaim(r),
    patchedClaim(r),
    standinClaim(r),
    bpfClaim(r),
    sharingClaim(r, designs),
    safetyClaim(r, designs),
    nativeClaim(r, designs),
    memoryClaim(r, designs),
  ];
  return all.filter((c): c is Claim => c !== null).slice(0, MAX_HEADLINE);
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
    if (shared === undefined || own === undefined) return null;
    const ratio = ratioOf(shared, own);
    return { threads: nThreads, ratio, called: ratioResolved(ratio) };
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
        const ratio = ratioOf(shared, own);
        sharing.push({
          same: String(shared.labels.standin),
          own: String(own.labels.standin),
          batch: maxBatch,
          threads: maxThreads,
          ratio,
          called: ratioResolved(ratio),
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
  const claims = claimsOf(r, designs);
  return {
    designs,
    nop,
    headline: claims.map((c) => c.text),
    claims,
    standins: standinTable(r),
  };
}
