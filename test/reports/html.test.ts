// The HTML report's layout and charts (issue 15): a table of contents whose
// links all land, each lane's charts beside its tables, the environment
// last and collapsed, dot-and-interval charts that draw exactly the
// medians and intervals the tables print, a 1.0 line on every ratio, a
// bpf-standin chart, and human units on every axis.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metric } from '../../bench/lane.js';
import type { LaneResult, Results } from '../../bench/results.js';
import { perRoundRatios, summarize } from '../../bench/stats.js';
import {
  bytesTick,
  bytesTicks,
  type ChartSpec,
  chartSpecs,
  logTicks,
  nsTick,
  ratioTick,
  renderCharts,
} from '../../reports/charts.js';
import { findings } from '../../reports/findings.js';
import { esc, htmlReport } from '../../reports/html.js';
import { okLane, sampleResults } from './fixtures.js';

/** A bpf-standin lane: no program, and an array program that costs about 2x, both at batch 128, 1 thread. */
function bpfLane(): LaneResult {
  const none = [70, 72, 69, 71, 70];
  const array = [140, 150, 139, 141, 145];
  const m = (shape: string, values: number[], baseline?: number[]) =>
    metric(
      {
        id: `bpf-standin/${shape}/b128/t1`,
        lane: 'bpf-standin',
        labels: { shape, designs: '', baseline: 'none', batch: 128, threads: 1 },
        unit: 'ns/req',
        better: 'lower',
      },
      values,
      baseline === undefined ? undefined : { id: 'bpf-standin/none/b128/t1', values: baseline },
    );
  return okLane('bpf-standin', [m('none', none), m('array', array, none)]);
}

async function results(): Promise<Results> {
  const r = await sampleResults();
  return { ...r, lanes: [...r.lanes, bpfLane()] };
}

type Point = { x: number; y: number; lo: number; hi: number };
const points = (s: ChartSpec, dataset = 0) =>
  (s.config.data.datasets[dataset]?.data ?? []) as unknown as Point[];

describe('HTML report layout', () => {
  it('has a table of contents whose every link lands on an element of the page', async () => {
    const r = await results();
    const html = htmlReport(r, [], null);
    const nav = html.slice(html.indexOf('<nav class="toc"'), html.indexOf('</nav>'));
    const targets = [...nav.matchAll(/href="#([^"]+)"/g)].map((m) => m[1]);
    for (const want of ['findings', 'lanes', 'methodology', 'raw', 'environment'])
      assert.ok(targets.includes(want), `contents lack ${want}`);
    for (const l of r.lanes) assert.ok(targets.includes(`lane-${l.lane}`), l.lane);
    for (const t of targets) assert.match(html, new RegExp(`id="${t}"`), `no #${t}`);
    assert.ok(html.indexOf('<nav class="toc"') < html.indexOf('id="findings"'));
  });

  it('renders every headline finding as one bullet, and each x NOP cell with its interval', async () => {
    const r = await results();
    const html = htmlReport(r, [], null);
    const start = html.indexOf('<ul class="headline">');
    const list = html.slice(start, html.indexOf('</ul>', start));
    const f = findings(r);
    assert.equal((list.match(/<li>/g) ?? []).length, f.headline.length);
    for (const h of f.headline) assert.ok(list.includes(`<li>${esc(h)}</li>`), h);
    const fd = r.lanes
      .find((l) => l.lane === 'kernel')
      ?.metrics.find((m) => m.id === 'kernel/file-same/b128/t1')?.vsBaseline?.ratio;
    assert.ok(fd !== undefined);
    assert.ok(
      html.includes(
        `${fd.median.toFixed(2)}x <span class="note">[${fd.ci95[0].toFixed(2)}..${fd.ci95[1].toFixed(2)}]</span>`,
      ),
    );
    assert.match(html, /x NOP at batch 128: median of per-round ratios \[95 % interval\]/);
    // The findings table quotes the same ratio, with the same interval, and says what it is.
    const cost = f.designs
      .find((d) => d.design === 'per-fd')
      ?.costs.find((c) => c.standin === 'file-same')?.vsNop;
    assert.deepEqual(cost, fd);
    const findingsTable = html.slice(
      html.indexOf('<section id="findings">'),
      html.indexOf('</section>'),
    );
    assert.ok(
      findingsTable.includes(
        `file-same: ${fd.median.toFixed(2)}x <span class="note">[${fd.ci95[0].toFixed(2)}..${fd.ci95[1].toFixed(2)}]</span>`,
      ),
    );
    assert.match(
      findingsTable,
      /cost over plain NOP at batch 128, 1 thread: median of per-round ratios/,
    );
  });

  it('puts the environment last, collapsed behind a one-line summary', async () => {
    const html = htmlReport(await results(), [], null);
    const env = html.indexOf('<section id="environment">');
    for (const id of ['findings', 'lanes', 'methodology', 'raw'])
      assert.ok(html.indexOf(`<section id="${id}">`) < env, `${id} before the environment`);
    const section = html.slice(env, html.indexOf('</section>', env));
    assert.match(section, /<details class="environment"><summary>kernel [^<]+<\/summary>/);
    assert.doesNotMatch(section, /<details[^>]* open/);
  });

  it('places every chart beside the tables of its own lane', async () => {
    const r = await results();
    const { charts, error } = await renderCharts(r);
    assert.equal(error, null);
    const html = htmlReport(r, charts, error);
    assert.doesNotMatch(html, /<section id="charts">/);
    for (const c of charts) {
      const start = html.indexOf(`<h3 id="lane-${c.lane}">`);
      assert.ok(start >= 0, c.lane);
      const next = html.indexOf('<h3 ', start + 1);
      const lane = html.slice(start, next < 0 ? html.indexOf('</section>', start) : next);
      assert.ok(lane.includes(`<figcaption>`) && lane.includes('<div class="pair">'), c.title);
      const img = lane.indexOf(c.png.toString('base64').slice(0, 200));
      assert.ok(img > lane.indexOf('<div class="figures">'), `${c.title} beside ${c.lane}`);
    }
  });
});

describe('charts', () => {
  it('draws no bars: values with an interval are dots, lines only for trends', async () => {
    for (const s of chartSpecs(await results()))
      assert.ok(
        ['scatter', 'line'].includes(String(s.config.type)),
        `${s.title}: ${s.config.type}`,
      );
  });

  it("draws the kernel ratios with the tables' medians and 95 % intervals, and a 1.0 line", async () => {
    const r = await results();
    const s = chartSpecs(r).find((c) => c.title.startsWith('Kernel stand-ins relative'));
    assert.ok(s !== undefined);
    assert.equal(s.ref, 1);
    assert.equal(s.lane, 'kernel');
    const kernel = r.lanes.find((l) => l.lane === 'kernel');
    const one = points(s, 0);
    assert.ok(one.length > 0);
    const medians = kernel?.metrics
      .filter((x) => x.labels.batch === 128 && x.labels.threads === 1 && x.vsBaseline !== null)
      .map((x) => [x.vsBaseline?.ratio.median, ...(x.vsBaseline?.ratio.ci95 ?? [])]);
    assert.deepEqual(
      one.map((p) => [p.x, p.lo, p.hi]),
      medians,
    );
    // One row per stand-in, 1 thread and 2 threads offset either side of it.
    assert.deepEqual(
      one.map((p) => p.y + 0.25),
      one.map((_, i) => i),
    );
  });

  it('has a bpf-standin chart: each shape over no program, per round, with its interval', async () => {
    const s = chartSpecs(await results()).find((c) => c.lane === 'bpf-standin');
    assert.ok(s !== undefined, 'bpf-standin chart');
    assert.equal(s.ref, 1);
    const want = summarize(perRoundRatios([140, 150, 139, 141, 145], [70, 72, 69, 71, 70]));
    assert.deepEqual(points(s), [{ x: want.median, y: 0, lo: want.ci95[0], hi: want.ci95[1] }]);
  });

  it('titles every axis and ticks it in human units', async () => {
    for (const s of chartSpecs(await results())) {
      const scales = (s.config.options?.scales ?? {}) as Record<
        string,
        { title?: { text?: string }; ticks?: { callback?: unknown } }
      >;
      for (const axis of ['x', 'y']) {
        const a = scales[axis];
        assert.equal(typeof a?.ticks?.callback, 'function', `${s.title}: ${axis} ticks`);
        if (!(s.config.type === 'scatter' && axis === 'y'))
          assert.ok((a?.title?.text ?? '') !== '', `${s.title}: ${axis} title`);
      }
    }
    assert.equal(nsTick(68), '68 ns');
    assert.equal(nsTick(1500), '1.5 µs');
    assert.equal(nsTick(2_500_000), '2.5 ms');
    assert.equal(bytesTick(7.5 * 2 ** 20), '7.5 MiB');
    assert.equal(bytesTick(16_384), '16 KiB');
    assert.equal(ratioTick(1), '1.0x');
    assert.equal(ratioTick(1.25), '1.25x');
    assert.ok(logTicks(0.8, 2.2).includes(1));
    assert.deepEqual(bytesTicks(1000, 70_000), [1024, 2048, 4096, 8192, 16384, 32768, 65536]);
    assert.ok(bytesTicks(1000, 8e6).every((v) => Math.log2(v) % 2 === 0));
  });
});
