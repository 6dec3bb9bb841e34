// The summary `npm run bench` prints when it finishes: the run's caveats,
// each lane's status and its headline numbers. Reads results only; measures nothing.

import type { LaneResult, Metric, Results } from '../bench/results.js';
import type { FuzzReport } from '../fuzz/matrix.js';
import { bpfTables } from './bpf-view.js';
import { runCaveats } from './caveats.js';
import { bytes } from './findings.js';
import { fuzzMatrixLines } from './fuzz.js';
import { kernelGrid } from './kernel-view.js';
import { nativeTable, nativeView } from './native-view.js';
import { fmtRatio, RATIO_DEF } from './numbers.js';
import { PATCHED_BASELINE, patchedGrid } from './patched-view.js';
import { duration, registrationView } from './registration-view.js';
import { columns } from './text.js';

function fmt(x: number, unit: string): string {
  if (!Number.isFinite(x)) return '-';
  if (unit === 'bytes') return bytes(x);
  return x >= 1000 ? x.toFixed(0) : x.toFixed(1);
}

/** "median ±spread%" where spread is half the interquartile range relative to the median. */
function cell(m: Metric | undefined): string {
  if (m === undefined) return '';
  const s = m.summary;
  const spread = s.median === 0 ? 0 : ((s.p75 - s.p25) / 2 / s.median) * 100;
  return `${fmt(s.median, m.unit)} ±${spread.toFixed(0)}%`;
}

function kernelLines(lane: LaneResult): string[] {
  const { batches, threads, standins, at: cellAt } = kernelGrid(lane);
  const out: string[] = [];
  for (const t of threads) {
    out.push(
      `  ns/request, ${t} thread${t > 1 ? 's' : ''} (median ±half-IQR over rounds); x nop: ${RATIO_DEF}`,
    );
    const rows = [['  stand-in', ...batches.map((b) => `batch ${b}`), `x nop @${batches.at(-1)}`]];
    for (const s of standins) {
      const at = (b: number) => cellAt(s, b, t);
      const last = at(batches.at(-1) ?? 0);
      const ratio = last?.vsBaseline?.ratio;
      rows.push([
        `  ${s}`,
        ...batches.map((b) => cell(at(b))),
        ratio === undefined ? '' : fmtRatio(ratio),
      ]);
    }
    out.push(...columns(rows));
  }
  const marginal = lane.metrics.filter((m) => typeof m.labels.batch === 'string');
  if (marginal.length > 0) {
    out.push(`  marginal ns/request between batches ${marginal[0]?.labels.batch}:`);
    out.push(
      ...columns([
        ['  stand-in', ...threads.map((t) => `${t} thr`)],
        ...standins.map((s) => [
          `  ${s}`,
          ...threads.map((t) =>
            cell(marginal.find((m) => m.labels.standin === s && m.labels.threads === t)),
          ),
        ]),
      ]),
    );
  }
  return out;
}

function patchedLines(lane: LaneResult): string[] {
  const g = patchedGrid(lane);
  const bpf = g.variants.filter((v) => v !== PATCHED_BASELINE);
  if (g.threads.length === 0 || bpf.length === 0) return [];
  return [
    `  IORING_OP_BPF x plain NOP on the same ring at batch ${g.largest} (${RATIO_DEF})`,
    ...columns([
      ['  threads', ...bpf],
      ...g.threads.map((t) => [
        `  ${t}`,
        ...bpf.map((v) => {
          const r = g.xnop(v, t);
          return r === undefined ? '-' : fmtRatio(r);
        }),
      ]),
    ]),
  ];
}

function modelLines(lane: LaneResult): string[] {
  const sizes = [...new Set(lane.metrics.map((m) => m.labels.programs as number))].sort(
    (a, b) => a - b,
  );
  const designs = [...new Set(lane.metrics.map((m) => String(m.labels.design)))];
  const rows = [['  design', ...sizes.map((n) => `${n} progs`)]];
  for (const d of designs) {
    rows.push([
      `  ${d}`,
      ...sizes.map((n) =>
        cell(lane.metrics.find((m) => m.labels.design === d && m.labels.programs === n)),
      ),
    ]);
  }
  return [
    '  ns per modelled request (prep, issue, completion), by programs registered',
    ...columns(rows),
  ];
}

function nativeLines(lane: LaneResult): string[] {
  const v = nativeView(lane);
  const { head, rows } = nativeTable(v, cell, {
    pure: 'pure t1',
    same: 'pure tN same',
    own: 'pure tN own',
    ratio: 'same/own',
    iowq: 'io-wq t1',
    ring: 'ring t1',
  });
  return [
    `  ns/request of the C designs at batch ${v.batch} (median ±half-IQR; same/own = every ring on the same programs vs each its own)`,
    ...columns([head, ...rows].map(([d, ...r]) => [`  ${d}`, ...r])),
  ];
}

function registrationLines(lane: LaneResult): string[] {
  const v = registrationView(lane);
  const med = (m: { summary: { median: number } } | undefined) =>
    m === undefined ? '-' : duration(m.summary.median);
  const rows = [['  design', ...v.rings.map((n) => `N=${n} reg / unreg`)]];
  for (const d of v.designs)
    rows.push([
      `  ${d}${v.calls(d) === 'per ring' ? ' (N calls)' : ''}`,
      ...v.rings.map((n) => `${med(v.at(d, n, 'register'))} / ${med(v.at(d, n, 'unregister'))}`),
    ]);
  const k = v.structOps;
  return [
    '  time to register one program for N rings, and to unregister it (median; C locks, not the kernel grace period)',
    ...columns(rows),
    ...(k === null
      ? []
      : [`  real kernel struct_ops ${k.type}: attach ${med(k.attach)}, detach ${med(k.detach)}`]),
  ];
}

function bpfLines(lane: LaneResult): string[] {
  return bpfTables(lane, cell).flatMap((t) => [
    `  ns/request with a BPF program finding and tail-calling its callee, ${t.threads} thread${t.threads > 1 ? 's' : ''} (+ns: over no program)`,
    ...columns([t.head, ...t.rows].map(([s, ...r]) => [`  ${s}`, ...r])),
  ]);
}

function memoryLines(lane: LaneResult): string[] {
  const designs = [...new Set(lane.metrics.map((m) => String(m.labels.design)))];
  const at = (d: string, sharing: string, programs: number) =>
    lane.metrics.find(
      (m) =>
        m.labels.design === d &&
        m.labels.rings === 100 &&
        m.labels.programs === programs &&
        m.labels.sharing === sharing,
    );
  const rows = [['  design', 'shared x1', 'shared x16', 'own x1', 'own x16']];
  for (const d of designs) {
    const v = (s: string, p: number) => {
      const m = at(d, s, p);
      return m === undefined ? 'does not fit' : fmt(m.summary.median, 'bytes');
    };
    rows.push([`  ${d}`, v('shared', 1), v('shared', 16), v('per-ring', 1), v('per-ring', 16)]);
  }
  return [
    '  bytes added at 100 rings, programs shared by all rings or each ring its own (x programs)',
    ...columns(rows),
  ];
}

const LANE_LINES: Record<string, (lane: LaneResult) => string[]> = {
  kernel: kernelLines,
  native: nativeLines,
  registration: registrationLines,
  'bpf-standin': bpfLines,
  patched: patchedLines,
  model: modelLines,
  memory: memoryLines,
  fuzz: (lane) => fuzzMatrixLines(lane.details as unknown as FuzzReport).map((l) => `  ${l}`),
};

/** The terminal summary of `results`, as lines. */
export function terminalSummary(results: Results): string[] {
  const out = runCaveats(results).map((c) => `CAVEAT: ${c}`);
  if (out.length > 0) out.push('');
  for (const lane of results.lanes) {
    const secs = (lane.durationMs / 1000).toFixed(1);
    out.push(
      `${lane.lane} lane: ${lane.status}${lane.reason === null ? '' : `: ${lane.reason}`} (${secs} s)`,
    );
    for (const note of lane.notes) out.push(`  note: ${note}`);
    if (lane.status === 'ok') out.push(...(LANE_LINES[lane.lane]?.(lane) ?? []));
    out.push('');
  }
  out.push(results.complete ? 'run complete' : `run INCOMPLETE: ${results.incompleteReason}`);
  return out;
}
