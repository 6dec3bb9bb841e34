// Go benchmark format, so reviewers can run benchstat on two runs:
// configuration lines ("key: value": goos, goarch, cpu, kernel, commit and
// the run's caveats), then one section per lane, each opened by its own
// "pkg:" line so benchstat tables (and geomeans) never mix lanes. A line is
// "BenchmarkLane/key=value/... 1 value unit [ratio unit]": the second pair,
// when the lane has a baseline measured in the same rounds, is that
// round's ratio to it (drift cancels within a round). Bytes (memory) and
// the TypeScript model's timings get sections of their own after the
// timing lanes. Reads results only.

import type { LaneResult, Metric, Results } from '../bench/results.js';
import { perRoundRatios } from '../bench/stats.js';
import { runCaveats, virtualizationOf } from './caveats.js';
import { environmentOf, runCommit } from './environment-view.js';

/** Labels that describe a metric but do not identify it (they repeat another label). */
const DESCRIPTIVE = new Set(['designs', 'tracepoint', 'baseline', 'calls']);

/** A label value usable inside a benchmark name: no spaces, no '/', no trailing "-N" (benchstat reads that as GOMAXPROCS). */
function nameValue(v: string | number): string {
  return String(v)
    .replace(/[\s/]+/g, '_')
    .replace(/-(\d+)$/, '_$1');
}

/** 'kernel/file-same/b128/t2' becomes 'BenchmarkKernel/file-same/b128/t2' (the name when labels do not tell metrics apart). */
export function benchName(id: string): string {
  const [lane = '', ...rest] = id.split('/');
  const name = `Benchmark${lane.charAt(0).toUpperCase()}${lane.slice(1)}/${rest.join('/')}`;
  return name.replace(/\s+/g, '_');
}

/** 'BenchmarkKernel/standin=nop/sharing=none/batch=128/threads=1': the metric's identifying labels as key=value. */
export function keyValueName(m: Metric): string {
  const lane = m.lane.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) =>
    (c ?? '').toUpperCase(),
  );
  const parts = Object.entries(m.labels)
    .filter(([k]) => !DESCRIPTIVE.has(k))
    .map(([k, v]) => `${nameValue(k)}=${nameValue(v)}`);
  return `Benchmark${lane.charAt(0).toUpperCase()}${lane.slice(1)}/${parts.join('/')}`;
}

/** Units benchstat knows by their Go names; a registration timed alone ('ns') is one op. */
function unitOf(unit: string): string {
  if (unit === 'ns/req' || unit === 'ns/op' || unit === 'ns') return 'ns/op';
  if (unit === 'bytes') return 'B';
  return unit.replace(/\s+/g, '_');
}

/** The per-round ratio of `m` to its in-round baseline, with the unit naming that baseline; null without one. */
function ratioOf(lane: LaneResult, m: Metric): { values: number[]; unit: string } | null {
  if (m.vsBaseline === null) return null;
  const base = lane.metrics.find((x) => x.id === m.vsBaseline?.baseline);
  if (base === undefined || base.values.length !== m.values.length) return null;
  const name =
    base.labels.standin ?? base.labels.shape ?? base.labels.variant ?? base.labels.design;
  return {
    values: perRoundRatios(m.values, base.values),
    unit: `x-${nameValue(name ?? 'baseline')}`,
  };
}

/** Benchmark lines for `metrics` of `lane`: one per round, with the ratio to the baseline when there is one. */
function laneLines(lane: LaneResult, metrics: readonly Metric[]): string[] {
  const names = metrics.map(keyValueName);
  // Labels should tell every metric apart; if two collide, fall back to the ids.
  const unique = new Set(names).size === names.length;
  const lines: string[] = [];
  metrics.forEach((m, i) => {
    const name = unique ? (names[i] as string) : benchName(m.id);
    const ratio = ratioOf(lane, m);
    // The kernel lane's marginal cost (ns per extra request between two batch
    // sizes) is derived, not measured per request: its own unit, so benchstat
    // gives it its own table and keeps it out of the ns/op geomean.
    const unit = m.id.includes('/marginal-') ? 'marginal-ns/op' : unitOf(m.unit);
    m.values.forEach((v, round) => {
      const r = ratio?.values[round];
      const extra = r === undefined ? '' : ` ${Number(r.toPrecision(6))} ${ratio?.unit}`;
      lines.push(`${name} 1 ${Number(v.toPrecision(6))} ${unit}${extra}`);
    });
  });
  return lines;
}

/** Lanes whose values are not timings of the kernel or the C designs: each its own section, after the timing lanes. */
const APART = new Set(['memory', 'model']);

/** The benchstat input for `results`. */
export function benchstatReport(r: Results): string {
  const e = environmentOf(r);
  const id = e.cpuId;
  // Family/model/stepping/microcode: what tells two "AMD EPYC" machines apart.
  const cpuId =
    id === undefined || id === null
      ? []
      : [
          `cpu-id: ${[
            id.vendor,
            id.family === null ? null : `family ${id.family}`,
            id.model === null ? null : `model ${id.model}`,
            id.stepping === null ? null : `stepping ${id.stepping}`,
            id.microcode === null ? null : `microcode ${id.microcode}`,
          ]
            .filter((x) => x !== null && x !== undefined)
            .join(' ')}`,
        ];
  const git = runCommit(r);
  const caveats = runCaveats(r);
  const virt = virtualizationOf(r);
  // A repeated key would replace the earlier value, so every caveat goes on one line.
  const lines = [
    ...(caveats.length === 0 ? [] : [`caveat: ${caveats.join('; ')}`]),
    'goos: linux',
    `goarch: ${e.kernel?.arch === 'x64' ? 'amd64' : (e.kernel?.arch ?? 'unknown')}`,
    `cpu: ${id?.modelName ?? e.cpu?.model ?? 'unknown'}`,
    ...cpuId,
    `kernel: ${e.kernel?.release ?? 'unknown'}`,
    `commit: ${git === null ? 'unknown' : `${git.commit}${git.dirty ? '+dirty' : ''}`}`,
    ...((r.options as { quick?: unknown } | null)?.quick === true ? ['quick: true'] : []),
    ...(virt === null ? [] : [`virtualization: ${virt}`]),
  ];
  const section = (pkg: string, body: string[]) => {
    if (body.length > 0) lines.push('', `pkg: iou-dispatch/${pkg}`, ...body);
  };
  const ok = r.lanes.filter((l) => l.status === 'ok');
  const isBytes = (m: Metric) => m.unit === 'bytes';
  for (const lane of ok) {
    if (APART.has(lane.lane)) continue;
    section(
      lane.lane,
      laneLines(
        lane,
        lane.metrics.filter((m) => !isBytes(m)),
      ),
    );
  }
  for (const lane of ok) {
    const bytes = lane.metrics.filter(isBytes);
    if (lane.lane === 'memory') section('memory', laneLines(lane, bytes));
    else if (bytes.length > 0) section(`${lane.lane}-memory`, laneLines(lane, bytes));
  }
  for (const lane of ok) if (lane.lane === 'model') section('model', laneLines(lane, lane.metrics));
  return `${lines.join('\n')}\n`;
}
