import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Metric, Results } from '../../bench/results.js';
import { compareResults } from '../../reports/compare.js';
import { confirmPlan, judgeConfirmation } from '../../reports/confirm.js';
import { sampleResults } from './fixtures.js';

const COMPARE = fileURLToPath(new URL('../../reports/compare-cli.js', import.meta.url));
const BENCH = fileURLToPath(new URL('../../bench/cli.js', import.meta.url));

/** `r` with the values of the metrics `pick` selects multiplied by `factor`. */
function scaled(r: Results, pick: (m: Metric) => boolean, factor: number): Results {
  return {
    ...r,
    lanes: r.lanes.map((l) => ({
      ...l,
      metrics: l.metrics.map((m) =>
        pick(m) ? { ...m, values: m.values.map((v) => v * factor) } : m,
      ),
    })),
  };
}

type Ok = Extract<ReturnType<typeof compareResults>, { ok: true }>;
const ok = (c: ReturnType<typeof compareResults>): Ok => {
  assert.ok(c.ok, c.ok ? '' : c.reason);
  return c;
};

describe('compare --confirm: what is re-run', () => {
  const cell = 'kernel/fixed-own/b128/t2';
  let base: Results;
  let slower: Results;
  let c: Ok;
  before(async () => {
    base = await sampleResults();
    slower = scaled(base, (m) => m.id === cell, 1.3);
    c = ok(compareResults(base, slower));
  });

  it("re-runs only the flagged cell: its lane, its stand-in's designs, its batch and threads", () => {
    const flagged = c.deltas.filter((d) => d.regression).map((d) => d.id);
    assert.ok(flagged.includes(cell), `flagged: ${flagged.join(', ')}`);
    const plan = confirmPlan(c, slower);
    assert.ok(plan !== null);
    const arg = (flag: string) => plan.argv[plan.argv.indexOf(flag) + 1];
    assert.equal(arg('--lanes'), 'kernel');
    assert.equal(arg('--batches'), '128');
    assert.equal(arg('--threads'), '2');
    const labels = slower.lanes.flatMap((l) => l.metrics).find((m) => m.id === cell)?.labels;
    assert.equal(arg('--designs'), String(labels?.designs).split(' ').join(','));
    assert.ok(plan.argv.includes('--json'));
  });

  it('has nothing to re-run when nothing regressed', () => {
    assert.equal(confirmPlan(ok(compareResults(base, base)), base), null);
  });

  it('confirms a regression the re-run shows again, and drops one it does not', () => {
    const again = judgeConfirmation(
      c,
      ok(compareResults(base, slower, { ...c.options, force: true })),
    );
    assert.ok(again.items.length > 0);
    assert.ok(again.items.every((x) => x.confirmed));
    const gone = judgeConfirmation(
      c,
      ok(compareResults(base, base, { ...c.options, force: true })),
    );
    assert.ok(gone.items.every((x) => !x.confirmed));
  });

  it('judges a whole-lane regression on the lane re-run', () => {
    const everySlower = scaled(base, (m) => m.lane === 'kernel' && !m.id.includes('/nop/'), 1.3);
    const cl = ok(compareResults(base, everySlower));
    assert.ok(cl.lanes.some((l) => l.regression && l.lane === 'kernel'));
    const options = {
      quick: false,
      lanes: ['kernel', 'native', 'memory'],
      designs: ['global-array', 'per-ctx'],
      batches: [1, 8, 128],
      threads: [1, 2, 4],
      rounds: 12,
      durationMs: 10,
    };
    const plan = confirmPlan(cl, { ...everySlower, options });
    assert.ok(plan !== null);
    // The whole lane: every design, batch and thread count of the run, its rounds and sample length.
    const arg = (flag: string) => plan.argv[plan.argv.indexOf(flag) + 1];
    assert.equal(arg('--lanes'), 'kernel');
    assert.equal(arg('--designs'), 'global-array,per-ctx');
    assert.equal(arg('--batches'), '1,8,128');
    assert.equal(arg('--threads'), '1,2,4');
    assert.equal(arg('--rounds'), '12');
    assert.equal(arg('--duration'), '10');
    assert.ok(!plan.argv.includes('--oversubscribe') && !plan.argv.includes('--no-pin'));
    // A run that oversubscribed, unpinned, is re-run the same way (else 4 threads on 2 CPUs is refused).
    const crowded = { ...options, oversubscribe: true, placement: { mode: 'off', cpus: [] } };
    const again = confirmPlan(cl, { ...everySlower, options: crowded });
    assert.ok(again?.argv.includes('--oversubscribe') && again.argv.includes('--no-pin'));
  });
});

describe('compare --confirm, end to end (a real re-run of the native lane)', () => {
  let dir = '';
  let run: Results;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'iou-confirm-'));
    const r = spawnSync(
      process.execPath,
      [
        BENCH,
        ...['--lanes', 'native', '--designs', 'per-fd', '--batches', '128', '--threads', '1'],
        ...['--rounds', '8', '--duration', '10', '--no-report', '--json', '--out', dir],
      ],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    assert.equal(r.status, 0, r.stderr);
    run = JSON.parse(r.stdout) as Results;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, r: Results) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(r));
    return path;
  };
  const designCells = (m: Metric) => m.lane === 'native' && m.labels.design === 'per-fd';
  const compare = (args: string[]) =>
    spawnSync(process.execPath, [COMPARE, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

  // The re-run is a real measurement on a machine that may be loaded: which flagged items it
  // shows again is judged in the tests above on fixed values; here, the mechanics, and one
  // planted change (5x) that no load can hide.
  it('re-runs the flagged cells and ends as its items say (exit 1 exactly when one is confirmed)', () => {
    const base = write('base.json', run);
    const planted = write('planted.json', scaled(run, designCells, 1.5));
    const plain = compare([base, planted]);
    assert.equal(plain.status, 1, plain.stdout + plain.stderr);
    const r = compare([base, planted, '--confirm', '--out', join(dir, 'out1')]);
    const lines = r.stdout.split('\n');
    assert.match(lines[0] ?? '', /\(re-run: \d+ of \d+ flagged seen again\), exit [01]$/);
    const items = lines.filter((l) => /^ {2}(CONFIRMED|not again) {2}\S/.test(l));
    assert.ok(items.length > 0, r.stdout);
    assert.equal(r.status, items.some((l) => l.includes('CONFIRMED')) ? 1 : 0, r.stdout + r.stderr);
    assert.ok(lines.every((l) => l.length <= 80));
    assert.match(r.stderr, /re-running them to confirm: npm run bench -- --lanes native/);
    const rerun = JSON.parse(readFileSync(join(dir, 'out1', 'confirm-results.json'), 'utf8'));
    assert.deepEqual(rerun.options.lanes, ['native']);
    assert.deepEqual(rerun.options.designs, ['per-fd']);
  });

  it('confirms a change the re-run shows again (the base planted 5x faster): exit 1', () => {
    const base = write('fast-base.json', scaled(run, designCells, 0.2));
    const next = write('new.json', run);
    const r = compare([base, next, '--confirm']);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout.split('\n')[0] ?? '',
      /\d+ regressions? \(re-run: \d+ of \d+ flagged seen again\), exit 1$/,
    );
    assert.match(r.stdout, /^ {2}CONFIRMED {2}native \/base lane as a whole/m);
  });

  it('refuses (exit 2, one line) when NEW was measured on another kernel', () => {
    const env = run.environment as { kernel: { release: string } };
    const other = {
      ...run,
      environment: { ...env, kernel: { ...env.kernel, release: '0.0.0-other' } },
    };
    const base = write('k-base.json', { ...other, environment: other.environment } as Results);
    const next = write('k-new.json', scaled(other as Results, designCells, 1.5));
    const r = compare([base, next, '--confirm']);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /^compare: --confirm: .* was measured on kernel 0\.0\.0-other, this machine runs /,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
