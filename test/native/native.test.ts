// The native addon against the running kernel: probe fields, a seccomp
// filter that denies io_uring, NOP flag rejection, one request of every
// stand-in, a short timed run, and the standalone binary. Skips with the
// reason when the addon is not built or io_uring is unavailable here.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  checkStandins,
  errnoLabel,
  type FlagVerdict,
  loadNative,
  nopOnce,
  probeKernel,
  runStandins,
  STANDALONE_BINARY,
  type StandinCheck,
  setupFailureReason,
  standinDefs,
} from '../../native/index.js';

const native = loadNative();
const probe = probeKernel();
const skip = !native.ok ? native.reason : !probe.available ? probe.reason : false;
const INDEX_JS = fileURLToPath(new URL('../../native/index.js', import.meta.url));

describe('setup failure reasons', () => {
  it('names the errno and what to look at', () => {
    assert.match(setupFailureReason(38), /^io_uring_setup: ENOSYS: .*seccomp/);
    assert.match(
      setupFailureReason(1, '2'),
      /EPERM: io_uring is disabled \(kernel.io_uring_disabled = 2\)/,
    );
    assert.match(setupFailureReason(12), /ENOMEM: .*RLIMIT_MEMLOCK/);
    assert.equal(errnoLabel(-22), 'EINVAL');
    assert.equal(errnoLabel(4242), 'errno 4242');
  });
});

describe('kernel probe', { skip }, () => {
  it('reports features, opcodes and the flags a fast ring got', () => {
    assert.ok(probe.available);
    assert.ok(probe.featureNames.includes('SINGLE_MMAP'));
    assert.ok(probe.supportedOps.includes(0), 'IORING_OP_NOP is supported');
    assert.equal(probe.lastOp !== null && probe.lastOp >= Math.max(...probe.supportedOps), true);
    assert.equal(probe.nopFlags.length, 6);
    assert.ok(probe.setupFlags.some((f) => f.name === 'SINGLE_ISSUER'));
  });

  it('sees an undefined NOP flag rejected with EINVAL, so flag probing can be trusted', () => {
    assert.ok(probe.available);
    assert.deepEqual(
      [probe.unknownNopFlag.accepted, probe.unknownNopFlag.errno],
      [false, 'EINVAL'],
    );
    assert.equal(nopOnce(1 << 20), -22);
  });

  it('returns the injected result of IORING_NOP_INJECT_RESULT when the kernel has it', () => {
    assert.ok(probe.available);
    const inject = probe.nopFlags[0];
    assert.equal(nopOnce(1, 0, 0, 42), inject?.accepted ? 42 : inject?.res);
  });
});

describe('io_uring denied by seccomp', { skip: native.ok ? false : native.reason }, () => {
  for (const [errno, pattern] of [
    [38, /^io_uring_setup: ENOSYS/],
    [1, /^io_uring_setup: EPERM: io_uring is disabled/],
  ] as const) {
    it(`reports the lane unavailable with ${errnoLabel(errno)}, not a crash`, () => {
      const script = `
        import { loadNative, probeKernel } from ${JSON.stringify(INDEX_JS)};
        const n = loadNative();
        const denied = n.addon.denyIoUring(${errno});
        console.log(JSON.stringify({ denied, probe: probeKernel() }));`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      assert.equal(child.status, 0, child.stderr);
      const out = JSON.parse(child.stdout) as {
        denied: number;
        probe: { available: boolean; reason: string };
      };
      assert.equal(out.denied, 0, 'the filter installed');
      assert.equal(out.probe.available, false);
      assert.match(out.probe.reason, pattern);
    });
  }
});

describe('stand-ins', { skip }, () => {
  it('runs one request of each, or reports the errno of the flag the kernel refused', () => {
    assert.ok(probe.available);
    const nopFlags = probe.nopFlags;
    const checks = checkStandins();
    assert.ok(checks);
    const defs = standinDefs();
    assert.equal(checks.length, defs.length);
    for (const def of defs) {
      const check: StandinCheck | undefined = checks.find((c) => c.name === def.name);
      const refused: FlagVerdict | undefined = nopFlags.find(
        (f) => (def.nopFlags & (1 << f.bit)) !== 0 && !f.accepted,
      );
      assert.equal(check?.unsupported ?? null, refused?.errno ?? null, def.name);
      if (refused === undefined) assert.equal(check?.res, 0, `${def.name} completes with 0`);
    }
  });

  it('returns one value per round for every cell of a short run, with progress', async () => {
    const progress: number[] = [];
    const result = await runStandins(
      { standins: ['nop', 'file-same'], batches: [1, 8], threads: [1, 2], rounds: 2, sampleMs: 1 },
      (done) => progress.push(done),
    );
    assert.equal(result.cells.length, 8);
    for (const cell of result.cells) {
      assert.equal(cell.unsupported, null);
      assert.equal(cell.nsPerReq.length, 2);
      assert.ok(cell.nsPerReq.every((ns) => ns > 0));
    }
    assert.equal(progress.at(-1), 16, 'every sample reported');
  });

  it('rejects bad options with one line naming the problem', async () => {
    await assert.rejects(
      runStandins({ standins: ['nope'], batches: [1], threads: [1], rounds: 1, sampleMs: 1 }),
      /unknown stand-in 'nope'/,
    );
    await assert.rejects(
      runStandins({ batches: [512], threads: [1], rounds: 1, sampleMs: 1 }),
      /batches: 512/,
    );
    await assert.rejects(
      runStandins({ batches: [1], threads: [0], rounds: 1, sampleMs: 1 }),
      /threads: 0/,
    );
  });

  it('fails the run, naming worker and CPU, when a worker cannot be pinned (no silent fallback)', async () => {
    // CPU 4000: a valid number, but not one this process may run on here.
    await assert.rejects(
      runStandins({
        standins: ['nop'],
        batches: [1],
        threads: [2],
        cpus: [0, 4000],
        rounds: 1,
        sampleMs: 1,
      }),
      /^Error: cannot pin worker 1 to CPU 4000: Invalid argument$/,
    );
  });
});

describe('standalone iou-standins', {
  skip: existsSync(STANDALONE_BINARY) ? skip : 'not built',
}, () => {
  it('prints JSON cells from the same C loop', () => {
    const run = spawnSync(
      STANDALONE_BINARY,
      ['--standins', 'nop', '--batches', '8', '--rounds', '2', '--sample-ms', '1', '--json'],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as {
      rounds: number;
      cells: { standin: string; nsPerReq: number[] }[];
    };
    assert.deepEqual(
      out.cells.map((c) => [c.standin, c.nsPerReq.length]),
      [['nop', 2]],
    );
  });

  it('answers a bad argument with one line and exit 2', () => {
    const run = spawnSync(STANDALONE_BINARY, ['--batches', '0'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.equal(run.stderr.trim().split('\n').length, 1);
    assert.match(run.stderr, /--batches takes sizes from 1 to 256/);
  });
});

describe('native build without a toolchain', () => {
  it('says in one line what is missing and leaves the install going (exit 0)', () => {
    const build = fileURLToPath(new URL('../../../native/build.mjs', import.meta.url));
    const run = spawnSync(process.execPath, [build], {
      encoding: 'utf8',
      env: { PATH: '/nonexistent', CC: 'no-such-cc', CXX: 'no-such-c++' },
    });
    assert.equal(run.status, 0);
    assert.equal(run.stderr.trim().split('\n').length, 1);
    assert.match(
      run.stderr,
      /^iou-dispatch: native addon not built: missing C compiler, C\+\+ compiler, make, python3/,
    );
  });
});
