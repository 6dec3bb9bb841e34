import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metric } from '../../bench/lane.js';
import type { LaneResult, Metric, Results } from '../../bench/results.js';
import { chartSpecs, renderCharts } from '../../reports/charts.js';
import { esc, htmlReport } from '../../reports/html.js';
import { fmtRatio } from '../../reports/numbers.js';
import { patchedGrid } from '../../reports/patched-view.js';
import { terminalSummary } from '../../reports/terminal.js';
import { MAIL_WIDTH, textReport } from '../../reports/text.js';
import { noisy, okLane, sampleResults } from './fixtures.js';

const VARIANTS: [string, number][] = [
  ['nop', 1],
  ['bpf-nop', 1.68],
  ['bpf-array', 1.75],
  ['bpf-result', 1.71],
];
const PROBES = [{ what: 'opcode 65 in IORING_REGISTER_PROBE', result: 'supported' }];

/** A patched lane as the lane writes it: every variant per batch and threads, each against the NOP of its cell. */
function patchedLane(): LaneResult {
  const metrics: Metric[] = [];
  for (const t of [1, 2]) {
    for (const b of [1, 32]) {
      const id = (v: string) => `patched/${v}/b${b}/t${t}`;
      const nop = noisy(b === 1 ? 1700 : 430, 7, t * 10 + b);
      for (const [i, [v, x]] of VARIANTS.entries()) {
        const values = v === 'nop' ? nop : noisy((b === 1 ? 1700 : 430) * x, 7, t * 100 + b + i);
        metrics.push(
          metric(
            {
              id: id(v),
              lane: 'patched',
              labels: { variant: v, version: 'v2/v3', batch: b, threads: t },
              unit: 'ns/req',
              better: 'lower',
            },
            values,
            { id: id('nop'), values: nop },
          ),
        );
      }
    }
  }
  return okLane('patched', metrics, {
    notes: ['detected v2 or v3'],
    details: { present: true, probes: PROBES },
  });
}

const skippedLane: LaneResult = {
  lane: 'patched',
  status: 'skipped',
  reason: 'IORING_OP_BPF not present (opcode 65 unsupported)',
  durationMs: 1,
  notes: [],
  metrics: [],
  details: { present: false, probes: PROBES },
};

const withLane = (r: Results, lane: LaneResult): Results => ({ ...r, lanes: [...r.lanes, lane] });

function assertMailWidth(text: string): void {
  for (const line of text.split('\n')) {
    assert.ok(line.length <= MAIL_WIDTH, `too long (${line.length}): ${line}`);
    assert.ok(!line.includes('\t'), `tab in: ${line}`);
  }
}

describe('patched lane in the reports', () => {
  it('reads the lane as a grid of variants in measured order, batches and threads', () => {
    const g = patchedGrid(patchedLane());
    assert.deepEqual(g.variants, ['nop', 'bpf-nop', 'bpf-array', 'bpf-result']);
    assert.deepEqual(g.batches, [1, 32]);
    assert.deepEqual(g.threads, [1, 2]);
    assert.equal(g.largest, 32);
    assert.equal(g.rounds, 7);
    assert.equal(g.at('bpf-array', 32, 2)?.id, 'patched/bpf-array/b32/t2');
    assert.equal(g.xnop('nop', 1), undefined);
    assert.equal(g.xnop('bpf-nop', 1), g.at('bpf-nop', 32, 1)?.vsBaseline?.ratio);
    assert.equal(patchedGrid(undefined).largest, undefined);
  });

  it('prints a table per thread count with every variant and its ratio to NOP with the interval', async () => {
    const lane = patchedLane();
    const text = textReport(withLane(await sampleResults(), lane));
    assertMailWidth(text);
    assert.match(text, /^== patched lane: ok$/m);
    assert.match(text, /IORING_OP_BPF over plain\s+IORING_OP_NOP on the same ring at b32/);
    assert.match(text, /median ± half its 95% CI of 7\s+rounds/);
    for (const t of [1, 2]) {
      const head = text.indexOf(`ns/request, ${t} thread${t > 1 ? 's' : ''}, median ± half its`);
      assert.ok(head >= 0, `table for ${t} thread(s)`);
      const table = text.slice(head).split('\n\n')[0] ?? '';
      assert.match(table, /^variant +b1 +b32 +xnop$/m);
      // The baseline has no ratio to itself.
      assert.match(table, /^nop +\d+±\d+% +\d+\.\d±\d+%$/m);
      for (const [v] of VARIANTS.slice(1)) {
        const r = lane.metrics.find((m) => m.id === `patched/${v}/b32/t${t}`)?.vsBaseline?.ratio;
        assert.ok(r !== undefined);
        // The median of per-round ratios with its interval, as the headline quotes it.
        const xnop = fmtRatio(r);
        assert.match(xnop, /^1\.\d{3}x \[1\.\d{3}\.\.1\.\d{3}\]$/);
        const row = table.split('\n').find((l) => l.startsWith(`${v} `)) ?? '';
        assert.match(row, /^bpf-\w+ +\d+±\d+% +\d+\.\d±\d+% +1\.\d{3}x \[/, v);
        assert.ok(row.endsWith(`  ${xnop}`), `${row} ends with ${xnop}`);
      }
    }
  });

  it('puts the same tables, with intervals, in the HTML next to the probe table', async () => {
    const lane = patchedLane();
    const html = htmlReport(withLane(await sampleResults(), lane), [], null);
    assert.match(html, /<h4>ns\/request, 1 thread \(median \[95 % interval\] of 7 rounds; x NOP:/);
    assert.match(html, /<h4>ns\/request, 2 threads \(/);
    assert.match(
      html,
      /<th>variant<\/th><th>batch 1<\/th><th>batch 32<\/th><th>x NOP at batch 32<\/th>/,
    );
    const r = lane.metrics.find((m) => m.id === 'patched/bpf-result/b32/t1')?.vsBaseline?.ratio;
    assert.ok(r !== undefined);
    const ratio = `${r.median.toFixed(2)}x <span class="note">[${r.ci95[0].toFixed(2)}..${r.ci95[1].toFixed(2)}]</span>`;
    const row = html.split('\n').find((l) => l.startsWith('<tr><td>bpf-result</td>')) ?? '';
    assert.ok(row.endsWith(`<td>${ratio}</td></tr>`), row);
    assert.match(html, /<tr><td>nop<\/td><td>\d+ <span class="note">\[\d+\.\.\d+\]<\/span><\/td>/);
    assert.match(html, /<h4>What the lane probed<\/h4>/);
  });

  it('gives the terminal one row of ratios to NOP per thread count', async () => {
    const lines = terminalSummary(withLane(await sampleResults(), patchedLane()));
    const head = lines.findIndex((l) => l.includes('IORING_OP_BPF x plain NOP'));
    assert.ok(head > 0);
    assert.match(lines[head] ?? '', /at batch 32 \(median of per-round ratios \[95% CI\]\)$/);
    assert.match(lines[head + 1] ?? '', /^ {2}threads +bpf-nop +bpf-array +bpf-result$/);
    // The same figure as the report's tables (reports/numbers.ts): three decimals, '..' between.
    assert.match(
      lines[head + 2] ?? '',
      /^ {2}1 +1\.\d{3}x \[\d\.\d{3}\.\.\d\.\d{3}\] +1\.\d{3}x \[/,
    );
    assert.match(lines[head + 3] ?? '', /^ {2}2 +1\.\d{3}x \[/);
  });

  it('renders a run without the lane, or with it skipped or empty, with no table', async () => {
    const base = await sampleResults();
    // The lanes' part of the report: the headline's first bullet says whether the kernel was probed.
    const lanes = (text: string) => text.slice(text.indexOf('\nreproduce'));
    const before = lanes(textReport(base));
    assert.doesNotMatch(before, /patched|IORING_OP_NOP on the same ring/);
    for (const lane of [skippedLane, { ...patchedLane(), metrics: [] }]) {
      const r = withLane(base, lane);
      const text = textReport(r);
      assertMailWidth(text);
      assert.doesNotMatch(text, /IORING_OP_NOP on the same ring|xnop: IORING_OP_BPF/);
      // The lane adds its status line and notes, and nothing else.
      const added = lanes(text)
        .split('\n')
        .filter((l) => !before.split('\n').includes(l))
        .filter((l) => l !== '');
      assert.deepEqual(
        added,
        lane.status === 'skipped'
          ? ['== patched lane: skipped: IORING_OP_BPF not present (detail: appendix)']
          : ['== patched lane: ok', '  note: detected v2 or v3'],
      );
      const html = htmlReport(r, [], null);
      assert.doesNotMatch(html, /<th>variant<\/th>|IORING_OP_BPF over plain IORING_OP_NOP/);
      assert.match(html, /<h4>What the lane probed<\/h4>/);
      assert.equal(
        terminalSummary(r).some((l) => l.includes('IORING_OP_BPF x plain NOP')),
        false,
      );
    }
  });

  it('draws each variant over NOP as a dot with its interval and a 1.0 line, beside the lane', async () => {
    const r = withLane(await sampleResults(), patchedLane());
    const spec = chartSpecs(r).find((c) => c.lane === 'patched');
    assert.ok(spec !== undefined, 'patched chart');
    assert.equal(spec.config.type, 'scatter');
    assert.equal(spec.ref, 1);
    const g = patchedGrid(r.lanes.find((l) => l.lane === 'patched'));
    const dots = spec.config.data.datasets[0]?.data as unknown as { x: number; lo: number }[];
    assert.deepEqual(
      dots.map((d) => [d.x, d.lo]),
      ['bpf-nop', 'bpf-array', 'bpf-result'].map((v) => [
        g.xnop(v, 1)?.median,
        g.xnop(v, 1)?.ci95[0],
      ]),
    );
    const { charts } = await renderCharts(r);
    const chart = charts.find((c) => c.lane === 'patched');
    assert.ok(chart !== undefined);
    const html = htmlReport(r, charts, null);
    const caption = html.indexOf(`<figcaption>${esc(chart.caption)}</figcaption>`);
    assert.ok(caption > html.indexOf('<h3 id="lane-patched">'), 'the chart sits in the lane');
  });
});
