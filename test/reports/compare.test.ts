import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { metric } from '../../bench/lane.js';
import type { Metric, Results } from '../../bench/results.js';
import { seededRandom } from '../../bench/stats.js';
import {
  compareHtml,
  compareResults,
  compareText,
  regressionNames,
  sideCaveats,
  verdictLine,
} from '../../reports/compare.js';
import { okLane, sampleResults } from './fixtures.js';

const CLI = fileURLToPath(new URL('../../reports/compare-cli.js', import.meta.url));

function files(a: Results, b: Results | string): [string, string] {
  const dir = mkdtempSync(join(tmpdir(), 'iou-compare-'));
  writeFileSync(join(dir, 'base.json'), JSON.stringify(a));
  writeFileSync(join(dir, 'new.json'), typeof b === 'string' ? b : JSON.stringify(b));
  return [join(dir, 'base.json'), join(dir, 'new.json')];
}

const compare = (args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

/** `r` with each metric's values replaced (compare reads values, not summaries). */
function withValues(r: Results, f: (m: Metric) => readonly number[]): Results {
  return {
    ...r,
    lanes: r.lanes.map((l) => ({ ...l, metrics: l.metrics.map((m) => ({ ...m, values: f(m) })) })),
  };
}

/**
 * A noisy quick run: 5 rounds, each value off by up to ±8 % on its own and
 * by up to ±2 % shared by every metric of its round (machine state).
 */
function noisyQuick(r: Results, seed: number, scaleKernel = 1): Results {
  const rand = seededRandom(seed);
  const round = Array.from({ length: 5 }, () => 1 + (rand() - 0.5) * 0.04);
  const quick = { ...r, options: { ...(r.options as object), quick: true, rounds: 5 } } as Results;
  return withValues(quick, (m) =>
    m.values.length === 1
      ? m.values
      : m.values
          .slice(0, 5)
          .map(
            (v, i) =>
              v *
              (round[i] as number) *
              (1 + (rand() - 0.5) * 0.16) *
              (m.lane === 'kernel' ? scaleKernel : 1),
          ),
  );
}

const firstLines = (out: string, n: number) => out.split('\n').slice(0, n).join('\n');

describe('compare', () => {
  it('two runs of the same code: no regression, exit 0, verdict first', async () => {
    const base = await sampleResults({ seed: 1 });
    const again = await sampleResults({ seed: 3 });
    const c = compareResults(base, again);
    assert.ok(c.ok);
    assert.deepEqual(
      c.deltas.filter((d) => d.regression).map((d) => d.id),
      [],
    );
    assert.ok(c.lanes.every((l) => !l.regression));
    const run = compare(files(base, again));
    assert.equal(run.status, 0, run.stdout);
    assert.equal(run.stdout.split('\n')[0], 'iou-dispatch compare: no regression, exit 0');
    for (const line of run.stdout.split('\n')) assert.ok(line.length <= 80, line);
  });

  it('one kernel metric planted 20 % slower (tight spread): exit 1, named on the first line', async () => {
    const base = await sampleResults({ seed: 1 });
    const target = 'kernel/file-same/b128/t1';
    for (const next of [base, await sampleResults({ seed: 3 })]) {
      const planted = withValues(next, (m) =>
        m.id === target ? m.values.map((v) => v * 1.2) : m.values,
      );
      const run = compare(files(base, planted));
      assert.equal(run.status, 1, run.stdout);
      assert.equal(run.stdout.split('\n')[0], 'iou-dispatch compare: 1 regression, exit 1');
      assert.match(
        run.stdout.split('\n')[1] ?? '',
        /^ {2}kernel\/file-same\/b128\/t1 (\/nop )?\+20\.\d%$/,
      );
      // The only regression listed, and first among the changes.
      const rows = run.stdout.split('\n').filter((l) => l.includes('REGRESSION'));
      assert.ok(rows.length >= 1 && rows.every((l) => l.includes(target)), rows.join('\n'));
      assert.match(run.stdout, /\+20\.\d%/);
      for (const line of run.stdout.split('\n')) assert.ok(line.length <= 80, line);
    }
  });

  it('a slowdown whose ratio is blurred by a noisy baseline is still caught on its raw ns', async () => {
    // kernel/nop/b128/t1 off by up to ±40 % each round, in both runs: the
    // ratios to it are too noisy to call, the planted metric's own ns are not.
    const rand = seededRandom(5);
    const noisyNop = (r: Results) =>
      withValues(r, (m) =>
        m.id === 'kernel/nop/b128/t1'
          ? m.values.map((v) => v * (1 + (rand() - 0.5) * 0.8))
          : m.values,
      );
    const base = noisyNop(await sampleResults({ seed: 1 }));
    const target = 'kernel/file-same/b128/t1';
    const planted = withValues(noisyNop(await sampleResults({ seed: 3 })), (m) =>
      m.id === target ? m.values.map((v) => v * 1.2) : m.values,
    );
    const c = compareResults(base, planted);
    assert.ok(c.ok);
    const [raw, ratio] = ['raw', 'ratio'].map((k) =>
      c.deltas.find((d) => d.id === target && d.kind === k),
    );
    assert.equal(ratio?.verdict, 'same', 'the ratio is too noisy to call');
    assert.ok(raw?.regression, 'the raw ns are called, and the ratio moved as far');
    assert.equal(verdictLine(c), 'iou-dispatch compare: 1 regression, exit 1');
    assert.match(regressionNames(c).join('\n'), /^kernel\/file-same\/b128\/t1 \+20\.\d%$/);
  });

  it('heads the columns with base and new kernel and commit', async () => {
    const base = await sampleResults({ seed: 1 });
    const c = compareResults(base, await sampleResults({ seed: 3 }));
    assert.ok(c.ok);
    const text = compareText(c, 'a.json', 'b.json');
    assert.match(firstLines(text, 8), /kernel\s+6\.18\.0-test\s+6\.18\.0-test/);
    assert.match(firstLines(text, 8), /commit\s+abc\s+abc/);
  });

  it('a slowdown of the baseline itself (kernel/nop) is a regression on its raw ns', async () => {
    const base = await sampleResults({ seed: 1 });
    const slower = await sampleResults({ seed: 2, scale: 1.1 });
    const c = compareResults(base, slower);
    assert.ok(c.ok);
    const nop = c.deltas.find((d) => d.id === 'kernel/nop/b128/t1' && d.kind === 'raw');
    assert.ok(nop?.regression, 'nop regressed');
    assert.ok(Math.abs((nop?.change ?? 0) - 0.1) < 0.02);
    // The others moved with it: their ratios to nop did not, so their raw ns do not gate.
    const file = c.deltas.filter((d) => d.id === 'kernel/file-same/b128/t1');
    assert.deepEqual(
      file.map((d) => [d.kind, d.regression]),
      [
        ['raw', false],
        ['ratio', false],
      ],
    );
    assert.ok(c.lanes.find((l) => l.lane === 'kernel')?.regression);
    const run = compare(files(base, slower));
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /\+\d+\.\d%.*kernel\/nop\/b128\/t1 REGRESSION/);
  });

  it('+10 % on every kernel-lane value of a noisy quick run: no single metric, but the lane', async () => {
    const full = await sampleResults({ seed: 1 });
    const base = noisyQuick(full, 101);
    const same = noisyQuick(full, 202);
    const slower = noisyQuick(full, 202, 1.1);
    const c = compareResults(base, slower);
    assert.ok(c.ok);
    assert.equal(
      c.deltas.some((d) => d.regression),
      false,
      'no single metric can be called from 5 rounds',
    );
    assert.ok(c.deltas.some((d) => d.verdict === 'too-little-data'));
    const kernel = c.lanes.find((l) => l.lane === 'kernel');
    assert.ok(kernel?.regression, JSON.stringify(kernel));
    assert.ok((kernel?.ci95[0] ?? 0) > 0.05 && (kernel?.ci95[1] ?? 1) < 0.15);
    const run = compare(files(base, slower));
    assert.equal(run.status, 1, run.stdout);
    assert.match(
      firstLines(run.stdout, 2),
      /regression, exit 1\n {2}kernel lane as a whole \+\d+\.\d%/,
    );
    assert.match(run.stdout, /too few rounds\s+to\s+call\s+alone/);
    assert.match(
      firstLines(run.stdout, 4),
      /CAVEAT: both runs are --quick: few rounds call few metrics/,
    );
    const html = compareHtml(c, 'a', 'b');
    assert.match(html, /<strong>iou-dispatch compare: 1 regression, exit 1<\/strong>/);
    assert.match(html, /too few rounds/);
    assert.match(html, /Caveat: both runs are --quick/);
    // The same noise without the shift is no regression.
    const quiet = compare(files(base, same));
    assert.equal(quiet.status, 0, quiet.stdout);
  });

  it('model and memory metrics never set the exit code', async () => {
    const withModel = (r: Results, scale: number, seed: number): Results => {
      const rand = seededRandom(seed);
      const values = Array.from({ length: 12 }, () => 1000 * scale * (1 + rand() * 0.01));
      const m = metric(
        { id: 'model/per-ctx/n16', lane: 'model', labels: {}, unit: 'ns/op', better: 'lower' },
        values,
      );
      return {
        ...r,
        lanes: [...r.lanes, okLane('model', [m])],
      };
    };
    const base = withModel(await sampleResults({ seed: 1 }), 1, 1);
    const next = withValues(withModel(await sampleResults({ seed: 3 }), 2, 2), (m) =>
      m.lane === 'memory' ? m.values.map((v) => v * 3) : m.values,
    );
    const c = compareResults(base, next);
    assert.ok(c.ok);
    const shown = c.deltas.filter((d) => d.lane === 'model' || d.lane === 'memory');
    assert.ok(shown.length >= 3 && shown.every((d) => d.verdict === 'changed'));
    assert.ok(shown.every((d) => d.informational && !d.regression));
    const run = compare(files(base, next));
    assert.equal(run.status, 0, run.stdout);
    assert.match(run.stdout, /model\/per-ctx\/n16 \(not gating\)/);
  });

  it('a marginal cost moves by ns, not by a percentage of a near-zero value, and never gates', async () => {
    const withMarginal = async (seed: number, at: number): Promise<Results> => {
      const r = await sampleResults({ seed });
      const rand = seededRandom(seed);
      const m = metric(
        {
          id: 'kernel/nop/marginal-b1-b128/t1',
          lane: 'kernel',
          labels: { standin: 'nop', designs: 'global-array', batch: '1..128', threads: 1 },
          unit: 'ns/req',
          better: 'lower',
        },
        Array.from({ length: 12 }, () => at + rand() * 0.1),
      );
      return {
        ...r,
        lanes: r.lanes.map((l) => (l.lane === 'kernel' ? { ...l, metrics: [...l.metrics, m] } : l)),
      };
    };
    // 0.5 ns to 1.5 ns: +200 % as a ratio, one ns as what it is.
    const base = await withMarginal(1, 0.5);
    const next = await withMarginal(1, 1.5);
    const c = compareResults(base, next);
    assert.ok(c.ok);
    const d = c.deltas.find((x) => x.id === 'kernel/nop/marginal-b1-b128/t1');
    assert.ok(d !== undefined);
    assert.ok(d.difference !== null && Math.abs(d.difference - 1) < 0.1, String(d.difference));
    assert.ok(d.informational && !d.regression);
    assert.equal(compare(files(base, next)).status, 0);
    const text = compareText(c, 'base.json', 'new.json');
    assert.match(text, /\+1\.0ns [^\n]*\n? *kernel\/nop\/marginal-b1-b128\/t1/);
    assert.doesNotMatch(text, /\+200/);
  });
  it("states each run's own caveat once, saying which run it is about", async () => {
    const c = compareResults(await sampleResults({ seed: 1 }), await sampleResults({ seed: 3 }));
    assert.ok(c.ok);
    assert.deepEqual(sideCaveats({ ...c, runCaveats: { base: ['x', 'y'], new: ['y', 'z'] } }), [
      '(base run): x',
      '(both runs): y',
      '(new run): z',
    ]);
  });

  it('reports an improvement without failing', async () => {
    const c = compareResults(
      await sampleResults({ seed: 1 }),
      await sampleResults({ seed: 4, scale: 0.85 }),
    );
    assert.ok(c.ok && c.deltas.some((d) => d.improvement) && !c.deltas.some((d) => d.regression));
    assert.match(compareText(c, 'a', 'b'), /improved/);
  });

  it('respects --threshold: a 10 % slowdown is no regression at 15 %', async () => {
    const [a, b] = files(
      await sampleResults({ seed: 1 }),
      await sampleResults({ seed: 2, scale: 1.1 }),
    );
    assert.equal(compare([a, b, '--threshold', '15']).status, 0);
  });

  it('refuses runs with different options, lanes or kernels (exit 2) unless --force', async () => {
    const base = await sampleResults({ seed: 1 });
    const again = await sampleResults({ seed: 3 });
    const env = again.environment as { kernel: object };
    const cases: [Results, RegExp][] = [
      [
        { ...again, options: { ...(again.options as object), rounds: 20 } } as Results,
        /rounds (\d+|unset) vs 20/,
      ],
      [
        { ...again, lanes: again.lanes.slice(0, 2) },
        /lanes kernel:ok,native:ok,memory:ok vs kernel:ok,native:ok/,
      ],
      [
        { ...again, environment: { ...env, kernel: { ...env.kernel, release: '6.19.0' } } },
        /kernel 6\.18\.0-test vs 6\.19\.0/,
      ],
    ];
    for (const [next, pattern] of cases) {
      const [a, b] = files(base, next);
      const run = compare([a, b]);
      assert.equal(run.status, 2, run.stdout);
      assert.equal(run.stderr.trim().split('\n').length, 1);
      assert.match(run.stderr, /refusing to compare .*--force to compare anyway/);
      assert.match(run.stderr, pattern);
      const forced = compare([a, b, '--force']);
      assert.equal(forced.status, 0, forced.stdout);
      assert.match(firstLines(forced.stdout, 6), /\nFORCED: these runs differ/);
    }
    // Where the files were written is not a difference.
    const moved = {
      ...again,
      options: { ...(again.options as object), out: '/elsewhere' },
    } as Results;
    assert.equal(compare(files(base, moved)).status, 0);
  });

  it('calls no regression when a run was under QEMU TCG, and says why (exit 0)', async () => {
    const base = await sampleResults({ seed: 1 });
    const slower = await sampleResults({ seed: 2, scale: 1.1 });
    const tcgBase = await sampleResults({ seed: 1, virtualization: 'tcg' });
    const tcgSlower = await sampleResults({ seed: 2, scale: 1.1, virtualization: 'tcg' });
    const cases: [Results, Results, string][] = [
      [tcgBase, slower, 'the base run is'],
      [base, tcgSlower, 'the new run is'],
      [tcgBase, tcgSlower, 'both runs are'],
    ];
    for (const [a, b, who] of cases) {
      const line = `CAVEAT: ${who} under QEMU TCG: timings not valid, no regression called`;
      const c = compareResults(a, b);
      assert.ok(c.ok);
      assert.equal(c.deltas.length > 0, true);
      assert.equal(
        c.deltas.some((d) => d.regression || d.improvement) ||
          c.lanes.some((l) => l.regression || l.improvement),
        false,
        who,
      );
      assert.match(compareHtml(c, 'a', 'b'), new RegExp(`Caveat: ${who} under QEMU TCG`));
      const run = compare(files(a, b));
      assert.equal(run.status, 0, run.stdout);
      const lines = run.stdout.split('\n');
      assert.equal(lines[0], 'iou-dispatch compare: not judged (QEMU TCG timings), exit 0');
      assert.equal(lines[1], line);
      assert.equal(lines.filter((l) => l.includes('QEMU TCG')).length, 2);
      assert.doesNotMatch(run.stdout, /REGRESSION|improved/);
      for (const l of lines) assert.ok(l.length <= 80, l);
    }
    // The same slowdown without TCG is still a regression, and says nothing about TCG.
    const plain = compare(files(base, slower));
    assert.equal(plain.status, 1);
    assert.doesNotMatch(plain.stdout, /TCG/);
    // A kvm run's timings count.
    const kvm = await sampleResults({ seed: 2, scale: 1.1, virtualization: 'kvm' });
    assert.equal(compare(files(base, kvm)).status, 1);
  });

  it('answers unusable input with one line and exit 2', async () => {
    const base = await sampleResults();
    const other = { ...base, schemaVersion: 2 } as unknown as Results;
    const cases: [[string, string] | string[], RegExp][] = [
      [files(base, other), /schemaVersion is 2; this suite reads version 1/],
      [files(base, { ...base, lanes: [] }), /no metric is in both files/],
      [files(base, '{'), /not JSON/],
      [[files(base, base)[0]], /give a base and a new results file/],
    ];
    for (const [args, pattern] of cases) {
      const run = compare(args);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stdout}`);
      assert.equal(run.stderr.trim().split('\n').length, 1);
      assert.match(run.stderr, pattern);
    }
  });
});
