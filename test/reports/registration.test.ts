// The registration lane in every report: its table in the mail text (within
// 80 columns), the HTML table and chart, and compare showing its metrics
// without counting them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metric } from '../../bench/lane.js';
import { registrationId, structOpsId } from '../../bench/lanes/registration.js';
import type { LaneResult, Metric, Results } from '../../bench/results.js';
import { appendixReport } from '../../reports/appendix.js';
import { renderCharts } from '../../reports/charts.js';
import { compareResults, compareText } from '../../reports/compare.js';
import { htmlReport } from '../../reports/html.js';
import { duration, registrationView } from '../../reports/registration-view.js';
import { terminalSummary } from '../../reports/terminal.js';
import { textReport } from '../../reports/text.js';
import { noisy, okLane, sampleResults } from './fixtures.js';

const DESIGNS: [string, number, boolean][] = [
  // name, ns per ring, one call per ring
  ['global-array', 12, false],
  ['per-ctx+unregistering-bit', 400, true],
  ['per-fd', 0, false],
];
const RINGS = [1, 16, 256, 4096];

function registrationLane(scale = 1, seed = 1): LaneResult {
  const metrics: Metric[] = [];
  for (const [i, [d, perRing, each]] of DESIGNS.entries())
    for (const n of RINGS)
      for (const op of ['register', 'unregister'] as const)
        metrics.push(
          metric(
            {
              id: registrationId(d, n, op),
              lane: 'registration',
              labels: { design: d, rings: n, calls: each ? n : 1, op },
              unit: 'ns',
              better: 'lower',
            },
            noisy((200 + perRing * n) * scale, 12, seed + i * 100 + n),
          ),
        );
  for (const [op, ns] of [
    ['attach', 16_000],
    ['detach', 10_500_000],
  ] as const)
    metrics.push(
      metric(
        {
          id: structOpsId('tcp_congestion_ops', op),
          lane: 'registration',
          labels: { design: 'struct-ops', type: 'tcp_congestion_ops', op },
          unit: 'ns',
          better: 'lower',
        },
        noisy(ns * scale, 12, seed + 7),
      ),
    );
  return okLane('registration', metrics, {
    durationMs: 1000,
    notes: ['C grace period: not the kernel one'],
  });
}

async function withRegistration(scale = 1, seed = 1): Promise<Results> {
  const r = await sampleResults({ seed });
  return { ...r, lanes: [...r.lanes, registrationLane(scale, seed)] };
}

describe('registration reports', () => {
  it('reads the lane as designs by ring count, with the struct_ops line', () => {
    const v = registrationView(registrationLane());
    assert.deepEqual(
      v.designs,
      DESIGNS.map(([d]) => d),
    );
    assert.deepEqual(v.rings, RINGS);
    assert.equal(v.calls('per-ctx+unregistering-bit'), 'per ring');
    assert.equal(v.calls('global-array'), 'one');
    assert.equal(v.structOps?.type, 'tcp_congestion_ops');
    assert.equal(duration(999), '999 ns');
    assert.equal(duration(1234), '1.23 µs');
    assert.equal(duration(10_500_000), '10.5 ms');
  });

  it('puts the largest N in the mail text and every N in the appendix, within 80 columns', async () => {
    const r = await withRegistration();
    const text = textReport(r);
    for (const line of text.split('\n')) assert.ok(line.length <= 80, `too long: ${line}`);
    assert.match(text, /^== registration lane: ok/m);
    assert.match(text, /^design +register N=4096 +unregister N=4096$/m);
    assert.match(text, /^global-array +\S+ +\S+$/m);
    // The fixes are in the appendix only.
    assert.doesNotMatch(text, /^per-ctx\+unregistering-bit/m);
    assert.match(text, /struct_ops tcp_congestion_ops/);
    assert.match(text, /detach 10\.5ms±\d+%/);
    const appendix = appendixReport(r);
    for (const line of appendix.split('\n')) assert.ok(line.length <= 80, `too long: ${line}`);
    assert.match(appendix, /^register +N=1 +N=16 +N=256 +N=4096$/m);
    assert.match(appendix, /^unregister +N=1 +N=16 +N=256 +N=4096$/m);
    assert.match(appendix, /^per-ctx\+unregistering-bit \* +\S+ +\S+ +\S+ +1\.64ms±\d+%$/m);
  });

  it('prints the medians in the terminal summary', async () => {
    const lines = terminalSummary(await withRegistration());
    assert.ok(
      lines.some((l) => /^ {2}per-ctx\+unregistering-bit \(N calls\) .* 1\.64 ms \/ /.test(l)),
    );
    assert.ok(
      lines.includes('  real kernel struct_ops tcp_congestion_ops: attach 16.0 µs, detach 10.5 ms'),
    );
  });

  it('splits the table when more ring counts than fit in a line are asked for', async () => {
    const r = await withRegistration();
    const lane = registrationLane();
    const many = [1, 2, 4, 8, 16, 32, 64, 128];
    const metrics = many.flatMap((n) =>
      (['register', 'unregister'] as const).map((op) =>
        metric(
          {
            id: registrationId('per-ctx+unregistering-bit', n, op),
            lane: 'registration',
            labels: { design: 'per-ctx+unregistering-bit', rings: n, calls: n, op },
            unit: 'ns',
            better: 'lower',
          },
          noisy(100_000 * n, 12, n),
        ),
      ),
    );
    const text = appendixReport({ ...r, lanes: [...r.lanes.slice(0, -1), { ...lane, metrics }] });
    for (const line of text.split('\n')) assert.ok(line.length <= 80, `too long: ${line}`);
    assert.equal(text.match(/^register +N=/gm)?.length, 2);
  });

  it('puts a table, the methodology and a chart in the HTML report', async () => {
    const r = await withRegistration();
    const { charts, error } = await renderCharts(r);
    const html = htmlReport(r, charts, error);
    assert.match(html, /<h4>Registration: time until N rings can name one program/);
    assert.match(html, /Real kernel: struct_ops tcp_congestion_ops/);
    assert.match(html, /The registration lane builds/);
    if (error === null) assert.ok(charts.some((c) => c.title.startsWith('Registration: ')));
  });

  it("compare shows the lane's metrics but never counts them", async () => {
    const base = await withRegistration(1, 1);
    const slower = await withRegistration(1.5, 2);
    const c = compareResults(base, slower);
    assert.ok(c.ok);
    const reg = c.deltas.filter((d) => d.id.startsWith('registration/'));
    assert.equal(reg.length, DESIGNS.length * RINGS.length * 2 + 2);
    assert.ok(reg.every((d) => d.informational && !d.regression));
    assert.ok(
      reg.some((d) => d.verdict === 'changed'),
      'a 50 % slowdown is still shown as a change',
    );
    assert.match(compareText(c, 'a', 'b'), /registration\/per-fd\/r1\/register \(not gating\)/);
  });
});
