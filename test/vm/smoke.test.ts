// The VM smoke test: boots the kernel IOU_VM_KERNEL names (an entry from
// `npm run vm -- kernel`; .ci/run builds a stock one from Debian's
// linux-source-6.12), runs the probe and a short bench of the kernel and
// patched lanes inside, and checks what came back. Skipped when
// IOU_VM_KERNEL is not set: a guest boot is not something every `npm test`
// should pay for.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readResults } from '../../bench/results.js';
import type { KernelInfo } from '../../vm/kernel.js';

const CLI = fileURLToPath(new URL('../../vm/cli.js', import.meta.url));
const entry = process.env.IOU_VM_KERNEL;
const skip =
  entry === undefined || entry === '' ? 'IOU_VM_KERNEL is not set (.ci/run sets it)' : false;

describe('VM smoke test', { skip, timeout: 1_200_000 }, () => {
  it('boots, probes, runs the kernel lane and says what the patched lane found', () => {
    const kernel = entry as string;
    const info = JSON.parse(readFileSync(join(kernel, 'info.json'), 'utf8')) as KernelInfo;
    const out = mkdtempSync(join(tmpdir(), 'iou-vm-smoke-'));
    const bench =
      'npm run -s bench -- --lanes kernel,patched --quick --batches 1,8 --threads 1 --rounds 3 --duration 5';
    const r = spawnSync(
      process.execPath,
      [
        CLI,
        'run',
        '--kernel',
        kernel,
        '--timeout',
        '900',
        '--out',
        out,
        '--',
        'sh',
        '-c',
        `node dist/native/cli.js --rounds 2 && ${bench}`,
      ],
      { encoding: 'utf8', timeout: 1_100_000 },
    );
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout.slice(-3000)}`);
    // The probe ran on the guest's kernel, not the host's.
    assert.match(
      r.stdout,
      new RegExp(`io_uring on Linux ${info.version.split('-')[0]?.replace(/\./g, '\\.')}`),
    );
    const results = readResults(join(out, 'results', 'results.json'));
    assert.ok(results.ok, results.ok ? '' : results.error);
    const env = results.results.environment as {
      virtualization?: string;
      kernel?: { release?: string };
    };
    assert.ok(
      env.virtualization === 'kvm' || env.virtualization === 'tcg',
      String(env.virtualization),
    );
    assert.equal(env.kernel?.release, info.version);
    const lane = (name: string) => results.results.lanes.find((l) => l.lane === name);
    const kernelLane = lane('kernel');
    assert.equal(kernelLane?.status, 'ok', kernelLane?.reason ?? '');
    assert.ok((kernelLane?.metrics.length ?? 0) > 0);
    // Every cell timed something (the marginal-cost metrics are differences and may be negative).
    for (const m of kernelLane?.metrics ?? [])
      if (typeof m.labels.batch === 'number')
        assert.ok(m.summary.median > 0, `${m.id} timed nothing`);
    const patched = lane('patched');
    if (info.series.length === 0) {
      assert.equal(patched?.status, 'skipped');
      assert.match(
        patched?.reason ?? '',
        /^IORING_OP_BPF not present \(opcode 65 in IORING_REGISTER_PROBE: not supported/,
      );
    } else {
      assert.equal(patched?.status, 'ok', patched?.reason ?? '');
      assert.ok(patched?.metrics.some((m) => m.labels.variant === 'bpf-result'));
    }
    const report = readFileSync(join(out, 'results', 'report.txt'), 'utf8');
    if (env.virtualization === 'tcg')
      assert.match(report, /^CAVEAT: functional run under QEMU TCG/);
    assert.ok(existsSync(join(out, 'console.log')));
  });
});
