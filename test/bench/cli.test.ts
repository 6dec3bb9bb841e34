// `npm run bench` end to end: bad input is one line, exit 2 and nothing
// written; a tiny run writes a valid results file with every lane; Ctrl-C
// saves what was done, marked incomplete.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readResults } from '../../bench/results.js';
import { probeKernel } from '../../native/index.js';

const CLI = fileURLToPath(new URL('../../bench/cli.js', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'iou-bench-'));

function bench(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
}

describe('bench command line', () => {
  const cases: [string[], RegExp][] = [
    [
      ['--lanes', 'kernel,warp'],
      /^bench: --lanes: unknown lane 'warp' \(known: kernel, patched, bpf-standin, native, registration, model, memory, fuzz\)$/,
    ],
    [['--designs', 'per-ring'], /^bench: --designs: unknown design 'per-ring'/],
    [['--batches', '1,x'], /^bench: --batches: 'x' is not a whole number from 1 to 256$/],
    [['--rings', '70000'], /^bench: --rings: '70000' is not a whole number from 1 to 65536$/],
    [['--rounds', '0'], /^bench: --rounds: '0' is not a number above 0/],
    [['--rounds', '2.5'], /^bench: --rounds: '2.5' is not a whole number$/],
    [['--duration', 'soon'], /^bench: --duration: 'soon' is not a number/],
    [['--frobnicate'], /^bench: Unknown option '--frobnicate'/],
    [
      ['--cpus', '99'],
      /^bench: --cpus: CPU 99 is not one this process may run on \(affinity [\d,-]+\)$/,
    ],
    [['--threads', '1025'], /^bench: --threads: '1025' is not a whole number from 1 to 1024$/],
    [['--threads', '4096', '--oversubscribe'], /^bench: --threads: '4096' is not a whole number/],
    [['--threads', '1025', '--oversubscribe'], /^bench: --threads: '1025' is not a whole number/],
  ];
  for (const [args, pattern] of cases) {
    it(`rejects ${args.join(' ')} with one line and exit 2, writing nothing`, () => {
      const out = join(tmp(), 'out');
      const run = bench([...args, '--out', out]);
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stderr.trim().split('\n').length, 1);
      assert.match(run.stderr.trim(), pattern);
      assert.equal(existsSync(out), false);
    });
  }

  it('rejects an --out that is a file, and one it cannot write in', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'file'), 'x');
    const file = bench(['--out', join(dir, 'file'), '--lanes', 'memory']);
    assert.equal(file.status, 2);
    assert.match(file.stderr, /^bench: --out: .*file is not a directory\n$/);
    const sys = bench(['--out', '/sys/kernel/iou-dispatch-test', '--lanes', 'memory']);
    assert.equal(sys.status, 2);
    assert.match(sys.stderr, /^bench: --out: cannot write in \/sys\/kernel/);
    assert.deepEqual(readdirSync(dir), ['file']);
  });

  it('writes a valid results file with every lane', () => {
    const out = join(tmp(), 'nested', 'out');
    const run = bench([
      '--rounds',
      '2',
      '--duration',
      '2',
      '--batches',
      '1,8',
      '--threads',
      '1',
      '--designs',
      'global-array,per-fd',
      '--out',
      out,
    ]);
    assert.equal(run.status, 0, run.stderr);
    const r = readResults(join(out, 'results.json'));
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.deepEqual(
      r.results.lanes.map((l) => l.lane),
      ['kernel', 'patched', 'bpf-standin', 'native', 'registration', 'model', 'memory', 'fuzz'],
    );
    assert.equal(r.results.complete, true);
    assert.deepEqual(r.results.command.slice(0, 4), ['npm', 'run', 'bench', '--']);
    const kernel = r.results.lanes[0];
    if (kernel?.status === 'ok') {
      assert.ok(kernel.metrics.some((m) => m.id === 'kernel/file-same/b8/t1'));
      assert.ok(kernel.metrics.some((m) => m.id === 'kernel/nop/marginal-b1-b8/t1'));
    } else {
      assert.equal(kernel?.status, 'skipped', 'only an unavailable kernel may skip the lane');
    }
    const patched = r.results.lanes[1];
    assert.ok(patched?.status === 'ok' || patched?.status === 'skipped', patched?.reason ?? '');
    const bpf = r.results.lanes[2];
    if (bpf?.status === 'ok')
      assert.ok(bpf.metrics.some((m) => m.id === 'bpf-standin/array/b32/t1'));
    else assert.equal(bpf?.status, 'skipped', 'only missing root or BPF may skip the lane');
    const native = r.results.lanes[3];
    if (native?.status === 'ok') {
      // Each C design, its baseline, the ring loop and the program-count scaling.
      assert.ok(native.metrics.some((m) => m.id === 'native/per-fd/pure/shared/p1/b8/t1'));
      assert.ok(native.metrics.some((m) => m.id === 'native/core/pure/shared/p1/b8/t1'));
      assert.ok(native.metrics.some((m) => m.id === 'native/per-fd/pure/shared/p65535/b8/t1'));
      if (kernel?.status === 'ok')
        assert.ok(native.metrics.some((m) => m.id === 'native/global-array/ring/shared/p1/b1/t1'));
    } else {
      assert.equal(native?.status, 'skipped', 'only a missing addon may skip the lane');
    }
    const registration = r.results.lanes[4];
    if (registration?.status === 'ok')
      assert.ok(registration.metrics.some((m) => m.id === 'registration/per-fd/r4096/unregister'));
    else assert.equal(registration?.status, 'skipped', 'only a missing addon may skip the lane');
    assert.ok(r.results.lanes[5]?.metrics.some((m) => m.id === 'model/per-fd/n65535'));
    assert.ok(r.results.lanes[6]?.metrics.some((m) => m.id === 'memory/per-fd/r1000/p256/shared'));
    assert.match(run.stdout, /run complete/);
  });

  /** Starts a long bench, sends SIGINT once `lane` reports progress; its exit code (null: killed) and results. */
  async function interrupt(lane: string, args: string[], killAfterMs: number) {
    const out = join(tmp(), 'out');
    const child = spawn(process.execPath, [CLI, '--lanes', lane, ...args, '--out', out], {
      env: { ...process.env, CI: 'true' },
    });
    let stderr = '';
    await new Promise<void>((res) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes(`${lane} lane: `) && !child.killed) {
          child.kill('SIGINT');
          res();
        }
      });
    });
    const code = await new Promise<number | null>((res) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      child.on('exit', (c) => {
        clearTimeout(timer);
        res(c);
      });
    });
    return { code, results: readResults(join(out, 'results.json')) };
  }

  it('saves partial results marked incomplete on SIGINT', { timeout: 60_000 }, async () => {
    const { code, results: r } = await interrupt(
      'model',
      ['--rounds', '1000', '--duration', '5'],
      30_000,
    );
    assert.equal(code, 130);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(r.results.complete, false);
    assert.equal(r.results.incompleteReason, 'interrupted by SIGINT');
    assert.equal(r.results.lanes.at(-1)?.status, 'interrupted');
  });

  it('stops the native timing threads on SIGINT instead of finishing their run', {
    timeout: 60_000,
    skip: nativeLaneReason(),
  }, async () => {
    // 1000 rounds of every stand-in would take many minutes: only a cancelled run exits in time.
    const { code, results: r } = await interrupt(
      'kernel',
      ['--rounds', '1000', '--duration', '20'],
      15_000,
    );
    assert.equal(code, 130, 'exited by itself after SIGINT');
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(r.results.incompleteReason, 'interrupted by SIGINT');
  });
});

/** Why the kernel lane cannot run here, or false. */
function nativeLaneReason(): string | false {
  const k = probeKernel();
  return k.available ? false : k.reason;
}
