// Reads the headline of a generated report.txt and checks every figure it
// quotes: each ratio, difference and ns value must appear in a table of the
// same report, each interval width must be that of a table's interval, and
// each figure must be what results.json's per-round values give (recomputed
// here from the raw values, not taken from the report code).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { metric } from '../../bench/lane.js';
import { type LaneResult, type Metric, type Results, readResults } from '../../bench/results.js';
import { perRoundDiffs, perRoundRatios, summarize } from '../../bench/stats.js';
import { findings } from '../../reports/findings.js';
import { diffResolved, ratioResolved } from '../../reports/numbers.js';
import { renderReports } from '../../reports/render.js';
import { noisy, okLane, sampleResults } from './fixtures.js';

/** A BPF stand-in lane: 'array' clearly above no program, 'hash' inside the noise. */
function bpfLane(): LaneResult {
  const metrics: Metric[] = [];
  for (const t of [1, 2])
    for (const b of [32, 128]) {
      const none = noisy(90, 12, 300 + t * 10 + b);
      const m = (shape: string, designs: string, values: number[]) =>
        metric(
          {
            id: `bpf-standin/${shape}/b${b}/t${t}`,
            lane: 'bpf-standin',
            labels: { shape, designs, baseline: 'none', batch: b, threads: t },
            unit: 'ns/req',
            better: 'lower',
          },
          values,
          { id: `bpf-standin/none/b${b}/t${t}`, values: none },
        );
      metrics.push(
        m('none', '', none),
        m('array', 'global-array', noisy(150, 12, 400 + t * 10 + b)),
        m('hash', 'array-xarray global-alloc', noisy(90.5, 12, 500 + t * 10 + b)),
      );
    }
  return okLane('bpf-standin', metrics);
}

const skippedPatched: LaneResult = {
  lane: 'patched',
  status: 'skipped',
  reason: 'IORING_OP_BPF not present (opcode 65 unsupported)',
  durationMs: 1,
  notes: [],
  metrics: [],
  details: { present: false, version: null, matches: [] },
};

/** A patched lane that ran: IORING_OP_BPF 1.3x plain NOP, and a variant inside the noise. */
function patchedLane(): LaneResult {
  const metrics: Metric[] = [];
  for (const t of [1, 2])
    for (const b of [1, 32]) {
      const id = (v: string) => `patched/${v}/b${b}/t${t}`;
      const nop = noisy(430, 12, 600 + t * 10 + b);
      for (const [v, x] of [
        ['nop', 1],
        ['bpf-nop', 1.3],
        ['bpf-result', 1.005],
      ] as const)
        metrics.push(
          metric(
            {
              id: id(v),
              lane: 'patched',
              labels: { variant: v, version: 'v2/v3', batch: b, threads: t },
              unit: 'ns/req',
              better: 'lower',
            },
            v === 'nop' ? nop : noisy(430 * x, 12, 700 + t * 10 + b + x),
            { id: id('nop'), values: nop },
          ),
        );
    }
  return {
    ...skippedPatched,
    status: 'ok',
    reason: null,
    metrics,
    details: { present: true, version: 'v2', matches: ['v2', 'v3'] },
  };
}

/** A results file written to disk and read back, and the report.txt rendered from it. */
async function generated(
  patched: LaneResult = skippedPatched,
  tweak: (r: Results) => Results = (r) => r,
): Promise<{ results: Results; report: string }> {
  const base = await sampleResults();
  const r: Results = tweak({ ...base, lanes: [...base.lanes, bpfLane(), patched] });
  const dir = mkdtempSync(join(tmpdir(), 'iou-headline-'));
  writeFileSync(join(dir, 'results.json'), JSON.stringify(r));
  const read = readResults(join(dir, 'results.json'));
  assert.ok(read.ok);
  await renderReports(read.results, dir);
  return { results: read.results, report: readFileSync(join(dir, 'report.txt'), 'utf8') };
}

/** The headline's bullets (a line starting "* " opens one, indented lines continue it). */
function headlineOf(report: string): string[] {
  const lines = report.split('\n');
  const start = lines.findIndex((l) => l.startsWith('* '));
  const bullets: string[] = [];
  for (const l of lines.slice(start)) {
    if (l.startsWith('* ')) bullets.push(l.slice(2));
    else if (l.startsWith('  ') && bullets.length > 0)
      bullets[bullets.length - 1] += ` ${l.trim()}`;
    else break;
  }
  return bullets;
}

/** The report's tables: every line after the reproduce block. */
function tablesOf(report: string): string {
  return report.slice(report.indexOf('\n== '));
}

const RATIO = /(\d+\.\d{3})x \[(\d+\.\d{3})\.\.(\d+\.\d{3})\]/g;
const DIFF = /([+-]\d+\.\d)ns \[([+-]\d+\.\d)\.\.([+-]\d+\.\d)\]/g;
const WIDTH = /(\d+\.\d+)(ns)? wide/g;
const NS = /(\d+\.\d) ns\/request/g;

/** Every problem with the headline of `report` against its tables and `r`; empty when none. */
function headlineProblems(report: string, r: Results): string[] {
  const problems: string[] = [];
  const tables = tablesOf(report);
  const release = (r.environment as { kernel: { release: string } }).kernel.release;
  // Intervals printed in the tables, as [lo, hi] with the digits they were printed with.
  const tableIntervals = [...tables.matchAll(RATIO)].map((m) => ({
    digits: 3,
    lo: Number(m[2]),
    hi: Number(m[3]),
    ns: false,
  }));
  tableIntervals.push(
    ...[...tables.matchAll(DIFF)].map((m) => ({
      digits: 1,
      lo: Number(m[2]),
      hi: Number(m[3]),
      ns: true,
    })),
  );
  for (const bullet of headlineOf(report)) {
    let rest = bullet.replaceAll(release, '');
    for (const re of [RATIO, DIFF]) {
      for (const m of bullet.matchAll(re)) {
        if (!tables.includes(m[0])) problems.push(`${m[0]} is in no table`);
        rest = rest.replace(m[0], '');
      }
    }
    for (const m of bullet.matchAll(NS)) {
      if (!new RegExp(`\\s${m[1]?.replace('.', '\\.')}±`).test(tables))
        problems.push(`${m[1]} ns is in no table`);
      rest = rest.replace(m[0], '');
    }
    for (const m of bullet.matchAll(WIDTH)) {
      const w = m[1] as string;
      const ns = m[2] !== undefined;
      // The width of an interval some table prints, to the digits the headline gives it.
      const found = tableIntervals.some(
        (i) => i.ns === ns && (i.hi - i.lo).toFixed(w.split('.')[1]?.length ?? 0) === w,
      );
      if (!found) problems.push(`width ${w} is no table interval's`);
      rest = rest.replace(m[0], '');
    }
    // "to" between two widths: the first of a pair is matched above only when followed by "wide".
    for (const m of bullet.matchAll(/(\d+\.\d+)(ns)? to /g)) {
      const w = m[1] as string;
      const ns = m[2] !== undefined;
      const found = tableIntervals.some(
        (i) => i.ns === ns && (i.hi - i.lo).toFixed(w.split('.')[1]?.length ?? 0) === w,
      );
      if (!found) problems.push(`width ${w} is no table interval's`);
      rest = rest.replace(m[0], '');
    }
    const unbacked = rest.match(/\d+\.\d+/g);
    if (unbacked !== null) problems.push(`unbacked figure(s) ${unbacked.join(', ')} in: ${bullet}`);
  }
  return problems;
}

const metricById = (r: Results, id: string) =>
  r.lanes.flatMap((l) => l.metrics).find((m) => m.id === id);

describe('headline figures', () => {
  it('quotes only figures that a table of the same report prints', async () => {
    const { results, report } = await generated();
    const bullets = headlineOf(report);
    assert.ok(bullets.length >= 4 && bullets.length <= 6, bullets.join('\n'));
    assert.match(bullets[0] ?? '', /^Kernel 6\.18\.0-test, stock: no IORING_OP_BPF \(probed\)/);
    assert.deepEqual(headlineProblems(report, results), []);
    // The BPF stand-in lane is in the headline, 'array' resolved and 'hash' (0.5 ns) not.
    const bpf = bullets.find((b) => b.includes('(bpf-standin lane')) ?? '';
    assert.match(bpf, /array \(global-array\) \+\d+\.\dns \[/);
    assert.match(bpf, /not resolved: hash \(array-xarray, global-alloc; interval \d+\.\dns wide\)/);
  });

  it('opens with the series found when the kernel has IORING_OP_BPF, and quotes it from its table', async () => {
    const { results, report } = await generated(patchedLane());
    const bullets = headlineOf(report);
    assert.ok(bullets.length <= 6);
    assert.match(
      bullets[0] ?? '',
      /^Kernel 6\.18\.0-test has IORING_OP_BPF \(v2\/v3 UAPI, found by probing/,
    );
    assert.match(
      bullets[1] ?? '',
      /^IORING_OP_BPF over plain IORING_OP_NOP .*\(patched lane, batch 32, 1 thread\).*bpf-nop 1\.\d{3}x \[.*not resolved: bpf-result/,
    );
    assert.deepEqual(headlineProblems(report, results), []);
  });

  it('states no sharing result when the threads could not run in parallel', async () => {
    const base = await sampleResults();
    const pinned = { ...base, environment: { ...(base.environment as object), affinity: [0] } };
    const text = findings(pinned as Results).headline.join(' ');
    assert.match(
      text,
      /Sharing across 2 threads \(kernel lane\): no result, the run had fewer usable CPUs/,
    );
    assert.match(text, /Sharing across 2 threads \(native lane\): no result/);
    assert.doesNotMatch(text, /same\/own|3\.000x/);
  });

  it('states no native sharing result when the control (core, the same code either way) moved', async () => {
    // The core loop's "own" cells 40 % faster than its "same" ones: nothing in the code differs,
    // so the 2-thread cells measured where the workers ran.
    const ownFaster = (r: Results): Results => ({
      ...r,
      lanes: r.lanes.map((l) => ({
        ...l,
        metrics: l.metrics.map((m) =>
          m.id === 'native/core/pure/own/p1/b128/t2' ? { ...m, values: noisy(6, 12, 5) } : m,
        ),
      })),
    });
    const { results, report } = await generated(skippedPatched, ownFaster);
    const bullet = headlineOf(report).find((b) => b.startsWith('C models')) ?? '';
    assert.match(
      bullet,
      /no result in this run; the control \(core, identical code either way\) measured 1\.\d{3}x \[/,
    );
    assert.doesNotMatch(bullet, /per-fd/);
    assert.deepEqual(headlineProblems(report, results), []);
    // The same run with the control at 1.0 states the designs' ratios.
    const plain = headlineOf((await generated()).report).find((b) => b.startsWith('C models'));
    assert.match(plain ?? '', /per-fd/);
  });

  it('fails a headline figure that no table prints, or a width no interval has', async () => {
    const { results, report } = await generated();
    const bullet = headlineOf(report).find((b) => b.includes('file-own')) ?? '';
    const quoted = bullet.match(RATIO)?.[0] ?? '';
    assert.notEqual(quoted, '');
    const tampered = report.replace(quoted.slice(0, 5), '9.999');
    assert.notDeepEqual(headlineProblems(tampered, results), []);
    const width = report.match(/\((intervals?) (\d+\.\d{3})/)?.[2] ?? '';
    assert.notEqual(width, '');
    assert.notDeepEqual(headlineProblems(report.replace(`${width}`, '7.777'), results), []);
    // A number with no figure behind it.
    assert.notDeepEqual(
      headlineProblems(report.replace('(kernel lane,', '(kernel lane, 12.5,'), results),
      [],
    );
  });

  it('gives each figure the value results.json holds for its rounds', async () => {
    const { results, report } = await generated();
    const text = headlineOf(report).join(' ');
    const f = findings(results);
    const figures = f.claims.flatMap((c) => c.figures);
    assert.ok(figures.length >= 5);
    for (const fig of figures) {
      const of = metricById(results, fig.of);
      assert.ok(of !== undefined, fig.of);
      let expected: string;
      if (fig.kind === 'ns') expected = of.summary.median.toFixed(1);
      else {
        const over = metricById(results, fig.over ?? '');
        assert.ok(over !== undefined, String(fig.over));
        // Recomputed from the raw per-round values in results.json.
        const s =
          fig.kind === 'ratio'
            ? summarize(perRoundRatios(of.values, over.values))
            : summarize(perRoundDiffs(of.values, over.values));
        const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
        expected =
          fig.kind === 'ratio'
            ? `${s.median.toFixed(3)}x [${s.ci95[0].toFixed(3)}..${s.ci95[1].toFixed(3)}]`
            : `${sign(s.median)}ns [${sign(s.ci95[0])}..${sign(s.ci95[1])}]`;
        // A stand-in's ratio to NOP is also stored in results.json as it was measured.
        if (of.vsBaseline?.baseline === over.id && fig.kind === 'ratio')
          assert.equal(of.vsBaseline.ratio.median, s.median);
      }
      assert.equal(fig.text, expected, fig.of);
      // Quoted only when resolved; otherwise only its width is.
      const resolved =
        fig.kind === 'ns' ||
        (fig.kind === 'ratio'
          ? ratioResolved(fig.summary)
          : diffResolved(fig.summary, metricById(results, fig.over ?? '')?.summary.median ?? 0));
      assert.equal(text.includes(fig.text), resolved, `${fig.of}: ${fig.text}`);
    }
  });
});

describe('headline figures of a real run', () => {
  // IOU_HEADLINE_RESULTS=path/results.json checks a real run's report the same way.
  const path = process.env.IOU_HEADLINE_RESULTS;
  it('quotes only figures its tables print', { skip: path === undefined }, async () => {
    const read = readResults(path as string);
    assert.ok(read.ok);
    const dir = mkdtempSync(join(tmpdir(), 'iou-headline-'));
    await renderReports(read.results, dir);
    const report = readFileSync(join(dir, 'report.txt'), 'utf8');
    assert.deepEqual(headlineProblems(report, read.results), []);
    assert.ok(headlineOf(report).length <= 6);
  });
});

describe('resolved differences', () => {
  const s = (median: number, lo: number, hi: number) => ({
    n: 12,
    median,
    p25: lo,
    p75: hi,
    min: lo,
    max: hi,
    ci95: [lo, hi] as const,
    outliers: { low: 0, high: 0 },
  });
  it('needs an interval that excludes no change and a change above the noise band', () => {
    assert.equal(ratioResolved(s(1.1, 1.05, 1.15)), true);
    assert.equal(ratioResolved(s(0.9, 0.85, 0.95)), true);
    // The interval includes 1: not resolved however large the median.
    assert.equal(ratioResolved(s(1.64, 0.9, 2.1)), false);
    // Inside the 2 % noise band: not resolved however tight.
    assert.equal(ratioResolved(s(1.015, 1.013, 1.017)), false);
    assert.equal(diffResolved(s(10, 8, 12), 100), true);
    assert.equal(diffResolved(s(10, -1, 12), 100), false);
    assert.equal(diffResolved(s(1, 0.5, 1.5), 100), false);
  });
});
