// Comparing two results files metric by metric: the % change of the median
// with its bootstrap interval, the Mann-Whitney p, and whether the change
// is a regression (significant, beyond the threshold, in the worse
// direction). When either run was under QEMU TCG its timings are not valid
// and nothing is called. Text in the 0-day robot's "%stddev %change
// %stddev" layout, and HTML. Reads results only.

import type { Metric, Results } from '../bench/results.js';
import { type Change, compareSamples } from '../bench/stats.js';
import { virtualizationOf } from './caveats.js';
import { esc } from './html.js';
import { columns, MAIL_WIDTH, wrap } from './text.js';

export interface CompareOptions {
  /** A change must exceed this (0.05 is 5 %) to count as a regression. */
  readonly threshold: number;
  /** Below this, a change is noise and not called at all. */
  readonly noiseBand: number;
  readonly alpha: number;
}

export const DEFAULT_COMPARE: CompareOptions = { threshold: 0.05, noiseBand: 0.02, alpha: 0.05 };

export interface MetricDelta {
  readonly id: string;
  readonly unit: string;
  readonly base: Metric;
  readonly next: Metric;
  readonly change: Change;
  readonly regression: boolean;
  readonly improvement: boolean;
  /** Shown but never a regression or improvement: see NOT_GATING. */
  readonly informational: boolean;
}

/**
 * Metrics compare shows but never calls: the registration lane's. Each
 * registration is timed alone (one call of a few hundred ns at small ring
 * counts, near the clock's own cost), and two idle quick runs of the same
 * code on 2 cores differed by up to 70 % there, "significant" by
 * Mann-Whitney: a nightly job would fail on noise. Its real-kernel
 * struct_ops detach is mostly the kernel's RCU grace period
 * (synchronize_rcu() in tcp_unregister_congestion_control()), which follows
 * the machine's load, not the code under test. Registration is a slow path;
 * the per-request metrics are what gate.
 */
export const NOT_GATING: readonly string[] = ['registration/'];

const informational = (id: string) => NOT_GATING.some((prefix) => id.startsWith(prefix));

export type Comparison =
  | { readonly ok: false; readonly reason: string }
  | {
      readonly ok: true;
      readonly deltas: readonly MetricDelta[];
      readonly onlyInBase: readonly string[];
      readonly onlyInNew: readonly string[];
      readonly options: CompareOptions;
      /** The runs made under QEMU TCG: when any, timings are not valid and no delta is a regression or improvement. */
      readonly tcg: readonly ('base' | 'new')[];
    };

const metricsOf = (r: Results) => new Map(r.lanes.flatMap((l) => l.metrics).map((m) => [m.id, m]));

/**
 * Single-valued metrics (memory) are computed, not sampled: any difference
 * is real, so they are compared exactly rather than tested.
 */
function changeOf(base: Metric, next: Metric, o: CompareOptions): Change {
  if (base.values.length === 1 && next.values.length === 1) {
    const change = (next.values[0] ?? 0) / (base.values[0] ?? 1) - 1;
    const aboveNoise = Math.abs(change) > o.noiseBand;
    return {
      change,
      ci95: [change, change],
      p: change === 0 ? 1 : 0,
      significant: change !== 0,
      aboveNoise,
      called: change !== 0 && aboveNoise,
    };
  }
  return compareSamples(base.values, next.values, { alpha: o.alpha, noiseBand: o.noiseBand });
}

/** Compares `next` against `base`; not ok when they cannot be compared (schema, no common metric). */
export function compareResults(
  base: Results,
  next: Results,
  o: CompareOptions = DEFAULT_COMPARE,
): Comparison {
  if (base.schemaVersion !== next.schemaVersion) {
    return {
      ok: false,
      reason: `schema versions differ: ${base.schemaVersion} and ${next.schemaVersion}`,
    };
  }
  const a = metricsOf(base);
  const b = metricsOf(next);
  const common = [...a.keys()].filter((id) => b.has(id));
  if (common.length === 0) return { ok: false, reason: 'no metric is in both files' };
  const tcg = (['base', 'new'] as const).filter(
    (side) => virtualizationOf(side === 'base' ? base : next) === 'tcg',
  );
  const timed = tcg.length === 0;
  const deltas = common.map((id): MetricDelta => {
    const bm = a.get(id) as Metric;
    const nm = b.get(id) as Metric;
    const change = changeOf(bm, nm, o);
    const worse = bm.better === 'lower' ? change.change > 0 : change.change < 0;
    const beyond = change.significant && Math.abs(change.change) > o.threshold;
    const gates = timed && !informational(id);
    return {
      id,
      unit: nm.unit,
      base: bm,
      next: nm,
      change,
      regression: gates && beyond && worse,
      improvement: gates && beyond && !worse,
      informational: informational(id),
    };
  });
  return {
    ok: true,
    deltas,
    onlyInBase: [...a.keys()].filter((id) => !b.has(id)),
    onlyInNew: [...b.keys()].filter((id) => !a.has(id)),
    options: o,
    tcg,
  };
}

/** One line when a run was under QEMU TCG: its timings are not valid, so nothing is called; else null. */
export function tcgCaveat(c: Extract<Comparison, { ok: true }>): string | null {
  if (c.tcg.length === 0) return null;
  const who = c.tcg.length === 2 ? 'both runs are' : `the ${c.tcg[0]} run is`;
  return `${who} under QEMU TCG: timings not valid, no regression called`;
}

function num(x: number): string {
  return x >= 1000 ? x.toFixed(0) : x.toFixed(2);
}

/** Relative half-width of the 95 % interval, as a whole percentage: the "± x%" column. */
function spread(m: Metric): string {
  const s = m.summary;
  return `±${s.median === 0 ? 0 : Math.round(((s.ci95[1] - s.ci95[0]) / 2 / s.median) * 100)}%`;
}

function changeCell(d: MetricDelta): string {
  if (!d.change.called) return '~';
  const p = d.change.change * 100;
  return `${p >= 0 ? '+' : ''}${p.toFixed(1)}%`;
}

/** The comparison as text, at most 80 columns: base ± %, change (~ when not called), new ± %, metric. */
export function compareText(
  c: Extract<Comparison, { ok: true }>,
  baseName: string,
  newName: string,
): string {
  const regressions = c.deltas.filter((d) => d.regression);
  const improvements = c.deltas.filter((d) => d.improvement);
  const caveat = tcgCaveat(c);
  const out = [
    ...(caveat === null ? [] : wrap(`CAVEAT: ${caveat}`, MAIL_WIDTH)),
    `iou-dispatch compare: ${baseName} -> ${newName}`,
    ...wrap(
      caveat === null
        ? `${c.deltas.length} common metrics; ${regressions.length} regressions and ${improvements.length} improvements beyond ${(c.options.threshold * 100).toFixed(0)}% (Mann-Whitney p < ${c.options.alpha}); changes inside the ${(c.options.noiseBand * 100).toFixed(0)}% noise band or not significant show as ~.`
        : `${c.deltas.length} common metrics; changes are shown as measured, but none is called a regression or an improvement; changes inside the ${(c.options.noiseBand * 100).toFixed(0)}% noise band or not significant show as ~.`,
    ),
    '',
  ];
  const rows = [['base', '', '%change', 'new', '']];
  const labels = ['metric'];
  for (const d of c.deltas) {
    const mark = d.regression
      ? ' REGRESSION'
      : d.improvement
        ? ' improved'
        : d.informational
          ? ' (not gating)'
          : '';
    rows.push([
      num(d.base.summary.median),
      spread(d.base),
      changeCell(d),
      num(d.next.summary.median),
      spread(d.next),
    ]);
    labels.push(`${d.id}${mark}`);
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
  if (c.onlyInBase.length > 0)
    out.push('', ...wrap(`only in ${baseName}: ${c.onlyInBase.join(', ')}`));
  if (c.onlyInNew.length > 0)
    out.push('', ...wrap(`only in ${newName}: ${c.onlyInNew.join(', ')}`));
  return `${out.join('\n')}\n`;
}

/** The comparison as a self-contained HTML page. */
export function compareHtml(
  c: Extract<Comparison, { ok: true }>,
  baseName: string,
  newName: string,
): string {
  const rows = c.deltas
    .map((d) => {
      const style = d.regression
        ? ' style="background:#ffebe9"'
        : d.improvement
          ? ' style="background:#dafbe1"'
          : '';
      const ci = `${(d.change.ci95[0] * 100).toFixed(1)}%..${(d.change.ci95[1] * 100).toFixed(1)}%`;
      return `<tr${style}><td>${esc(d.id)}</td><td>${esc(num(d.base.summary.median))} ${esc(spread(d.base))}</td><td>${esc(changeCell(d))}</td><td>${esc(ci)}</td><td>${esc(d.change.p.toPrecision(2))}</td><td>${esc(num(d.next.summary.median))} ${esc(spread(d.next))}</td><td>${d.regression ? 'regression' : d.improvement ? 'improvement' : d.informational ? 'not gating' : ''}</td></tr>`;
    })
    .join('\n');
  const caveat = tcgCaveat(c);
  const banner =
    caveat === null
      ? ''
      : `<p style="background:#fff8c5;border:2px solid #9a6700;padding:.6em;font-weight:bold">Caveat: ${esc(caveat)}</p>\n`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>iou-dispatch compare</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}td:first-child,th:first-child{text-align:left}</style>
</head><body>
<h1>iou-dispatch compare</h1>
${banner}<p>${esc(baseName)} &rarr; ${esc(newName)}: ${esc(c.deltas.filter((d) => d.regression).length)} regressions beyond ${esc((c.options.threshold * 100).toFixed(0))}%.</p>
<table><thead><tr><th>metric</th><th>base</th><th>change</th><th>95 % interval</th><th>p</th><th>new</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
