// bench.txt in the Go benchmark format benchstat reads: config lines first,
// key=value sub-benchmark names, one "pkg:" section per lane (so benchstat
// never puts two lanes in one table or one geomean), the per-round ratio to
// the lane's baseline as a unit of its own, and bytes and TypeScript-model
// timings kept out of the timing sections.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metric } from '../../bench/lane.js';
import type { LaneResult, Results } from '../../bench/results.js';
import { benchName, benchstatReport, keyValueName } from '../../reports/benchstat.js';
import { okLane, sampleResults } from './fixtures.js';

/** `r` with a model lane and a patched lane that also counts bytes, as real runs have. */
async function withExtraLanes(): Promise<Results> {
  const r = await sampleResults();
  const lane = (name: string, metrics: LaneResult['metrics']) => okLane(name, metrics);
  const model = lane('model', [
    metric(
      {
        id: 'model/per-fd/n1',
        lane: 'model',
        labels: { design: 'per-fd', programs: 1 },
        unit: 'ns/op',
        better: 'lower',
      },
      [900, 910, 905],
    ),
  ]);
  const patched = lane('patched', [
    metric(
      {
        id: 'patched-memory/table/r4',
        lane: 'patched',
        labels: { mode: 'table', rings: 4, ops: 16, registrations: 4, version: 1 },
        unit: 'bytes',
        better: 'lower',
      },
      [4096],
    ),
  ]);
  return { ...r, lanes: [...r.lanes, model, patched] };
}

/** The file's sections: config lines before the first "pkg:", then pkg name to its benchmark lines. */
function sections(text: string): { config: string[]; byPkg: Map<string, string[]> } {
  const lines = text.trimEnd().split('\n');
  const first = lines.findIndex((l) => l.startsWith('pkg: '));
  const byPkg = new Map<string, string[]>();
  let pkg = '';
  for (const l of lines.slice(first)) {
    if (l.startsWith('pkg: ')) {
      pkg = l.slice(5);
      assert.equal(byPkg.has(pkg), false, `${pkg} opened twice`);
      byPkg.set(pkg, []);
    } else if (l.startsWith('Benchmark')) byPkg.get(pkg)?.push(l);
  }
  return { config: lines.slice(0, first), byPkg };
}

describe('bench.txt (benchstat input)', () => {
  it('opens with goos, goarch, cpu (and its family, model, stepping, microcode), kernel and commit config lines', async () => {
    const r = await sampleResults({
      environment: {
        kernel: { release: '6.18.0-test', arch: 'x64' },
        cpu: { model: 'Test CPU', count: 2 },
        cpuId: {
          vendor: 'AuthenticAMD',
          family: 25,
          model: 17,
          stepping: 1,
          microcode: '0x1000065',
          modelName: 'Test CPU',
          processors: 2,
          hypervisorFlag: true,
        },
        gitCommit: 'abc123',
      },
    });
    const { config } = sections(benchstatReport(r));
    for (const want of [
      'goos: linux',
      'goarch: amd64',
      'cpu: Test CPU',
      'cpu-id: AuthenticAMD family 25 model 17 stepping 1 microcode 0x1000065',
      'kernel: 6.18.0-test',
      'commit: abc123',
    ])
      assert.ok(config.includes(want), `missing "${want}" in ${config.join(' | ')}`);
    for (const l of config.filter((x) => x !== ''))
      assert.match(l, /^[a-z][a-z0-9-]*: \S/, `not a config line: ${l}`);
  });

  it('names sub-benchmarks key=value from the labels that identify a metric', async () => {
    const r = await sampleResults();
    const text = benchstatReport(r);
    const nop = text
      .split('\n')
      .filter((l) => l.startsWith('BenchmarkKernel/standin=nop/sharing=none/batch=128/threads=1 '));
    assert.equal(nop.length, 12, 'one line per round');
    // Descriptive labels (the designs a stand-in stands for) stay out of the name.
    assert.doesNotMatch(text, /designs=/);
    const native = r.lanes.find((l) => l.lane === 'native')?.metrics[0];
    assert.ok(native !== undefined);
    assert.match(keyValueName(native), /^BenchmarkNative\/design=[^/]+\/loop=[^/]+\/sharing=/);
    // A trailing -N would be read as GOMAXPROCS.
    for (const l of text.split('\n').filter((x) => x.startsWith('Benchmark')))
      assert.doesNotMatch(l.split(' ')[0] ?? '', /-\d+$/, l);
    assert.equal(benchName('model/per-fd/n1'), 'BenchmarkModel/per-fd/n1');
  });

  it('gives each lane its own section, with memory and model lines outside every timing section', async () => {
    const r = await withExtraLanes();
    const { byPkg } = sections(benchstatReport(r));
    assert.deepEqual(
      [...byPkg.keys()],
      [
        'iou-dispatch/kernel',
        'iou-dispatch/native',
        'iou-dispatch/memory',
        'iou-dispatch/patched-memory',
        'iou-dispatch/model',
      ],
    );
    for (const pkg of ['iou-dispatch/kernel', 'iou-dispatch/native']) {
      const lines = byPkg.get(pkg) ?? [];
      assert.ok(lines.length > 0, pkg);
      const lane = pkg.split('/')[1] as string;
      const prefix = `Benchmark${lane.charAt(0).toUpperCase()}${lane.slice(1)}/`;
      for (const l of lines) {
        assert.ok(l.startsWith(prefix), `${pkg} holds ${l}`);
        assert.match(l, / ns\/op( [\d.e+-]+ x-[\w-]+)?$/, `not a timing line in ${pkg}: ${l}`);
      }
    }
    assert.ok((byPkg.get('iou-dispatch/memory') ?? []).every((l) => l.endsWith(' B')));
    assert.deepEqual(byPkg.get('iou-dispatch/patched-memory'), [
      'BenchmarkPatched/mode=table/rings=4/ops=16/registrations=4/version=1 1 4096 B',
    ]);
    assert.equal((byPkg.get('iou-dispatch/model') ?? []).length, 3);
  });

  it('writes each round with its ratio to the baseline of the same round, as its own unit', async () => {
    const r = await sampleResults();
    const kernel = r.lanes.find((l) => l.lane === 'kernel');
    const fd = kernel?.metrics.find((m) => m.id === 'kernel/file-same/b128/t1');
    const nop = kernel?.metrics.find((m) => m.id === 'kernel/nop/b128/t1');
    assert.ok(fd !== undefined && nop !== undefined);
    const lines = benchstatReport(r)
      .split('\n')
      .filter((l) => l.startsWith(`${keyValueName(fd)} `));
    assert.equal(lines.length, fd.values.length);
    lines.forEach((l, i) => {
      const [, iters, ns, nsUnit, ratio, ratioUnit] = l.split(' ');
      assert.equal(iters, '1');
      assert.equal(nsUnit, 'ns/op');
      assert.equal(ratioUnit, 'x-nop');
      assert.ok(Math.abs(Number(ns) - (fd.values[i] as number)) < 1e-3 * Number(ns));
      const want = (fd.values[i] as number) / (nop.values[i] as number);
      assert.ok(Math.abs(Number(ratio) - want) < 1e-5 * want, `round ${i}: ${ratio} vs ${want}`);
    });
    // Lines of a metric with no baseline carry one value.
    const mem = benchstatReport(r)
      .split('\n')
      .find((l) => l.startsWith('BenchmarkMemory/'));
    assert.match(
      mem ?? '',
      /^BenchmarkMemory\/design=global-array\/rings=100\/programs=16\/sharing=shared 1 16700 B$/,
    );
  });

  it('gives the derived marginal cost a unit of its own, out of the ns/op table', async () => {
    const r = await sampleResults();
    const marginal = metric(
      {
        id: 'kernel/nop/marginal-b1-b128/t1',
        lane: 'kernel',
        labels: { standin: 'nop', designs: 'global-array', batch: '1..128', threads: 1 },
        unit: 'ns/req',
        better: 'lower',
      },
      [60, 61, 59],
    );
    const lanes = r.lanes.map((l) =>
      l.lane === 'kernel' ? { ...l, metrics: [...l.metrics, marginal] } : l,
    );
    const lines = benchstatReport({ ...r, lanes })
      .split('\n')
      .filter((l) => l.startsWith('BenchmarkKernel/standin=nop/batch=1..128/threads=1 '));
    assert.deepEqual(lines, [
      'BenchmarkKernel/standin=nop/batch=1..128/threads=1 1 60 marginal-ns/op',
      'BenchmarkKernel/standin=nop/batch=1..128/threads=1 1 61 marginal-ns/op',
      'BenchmarkKernel/standin=nop/batch=1..128/threads=1 1 59 marginal-ns/op',
    ]);
  });

  it('puts the caveats and a quick run on config lines', async () => {
    const r = await sampleResults({ virtualization: 'tcg' });
    const quick = { ...r, options: { ...(r.options as object), quick: true } };
    const { config } = sections(benchstatReport(quick));
    assert.ok(config.some((l) => l.startsWith('caveat: functional run under QEMU TCG')));
    assert.ok(config.includes('quick: true'));
  });
});
