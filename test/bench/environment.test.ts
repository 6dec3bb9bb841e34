import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { affinityCpus, captureEnvironment, finishEnvironment } from '../../bench/environment.js';
import type { Environment, Json } from '../../bench/results.js';
import { validateResults } from '../../bench/results.js';

/** captureEnvironment() with IOU_VM_ACCEL set to `value` (unset when undefined), restored after. */
function withAccel(value: string | undefined): unknown {
  const saved = process.env.IOU_VM_ACCEL;
  try {
    if (value === undefined) delete process.env.IOU_VM_ACCEL;
    else process.env.IOU_VM_ACCEL = value;
    return (captureEnvironment() as { virtualization?: unknown }).virtualization;
  } finally {
    if (saved === undefined) delete process.env.IOU_VM_ACCEL;
    else process.env.IOU_VM_ACCEL = saved;
  }
}

describe('environment', () => {
  it('records the VM accelerator the suite VM runner sets in IOU_VM_ACCEL', () => {
    assert.equal(withAccel('tcg'), 'tcg');
    assert.equal(withAccel('kvm'), 'kvm');
  });

  it('records null when IOU_VM_ACCEL is unset or anything else', () => {
    for (const value of [undefined, '', 'TCG', 'KVM', ' tcg', 'hvf', 'tcg,kvm']) {
      assert.equal(withAccel(value), null, JSON.stringify(value));
    }
  });

  it('keeps the hypervisor field beside it', () => {
    const e = captureEnvironment() as Record<string, unknown>;
    assert.ok('hypervisor' in e);
    assert.ok('virtualization' in e);
  });

  it('records the affinity mask, which Node counts the same way (sched_getaffinity)', () => {
    const cpus = affinityCpus();
    assert.ok(cpus !== null && cpus.length > 0);
    assert.equal(cpus.length, availableParallelism());
    assert.deepEqual((captureEnvironment() as unknown as Environment).affinity, cpus);
  });

  it('takes a load sample before the run and fills in the one after, over the same CPUs', () => {
    const before = captureEnvironment();
    const e = before as unknown as Environment;
    assert.equal(e.load?.after, null);
    assert.ok(e.load?.before.cpuTimes !== null, '/proc/stat read');
    const after = finishEnvironment(before) as unknown as Environment;
    assert.deepEqual(after.load?.before, e.load?.before);
    assert.ok(after.load?.after !== null && after.load?.after !== undefined);
    const t0 = e.load?.before.cpuTimes;
    const t1 = after.load?.after.cpuTimes;
    assert.ok(t0 && t1 && t1.user + t1.system + t1.idle >= t0.user + t0.system + t0.idle);
    // Results without the field (older writers) come back unchanged.
    const old = { kernel: { release: 'x' } } as unknown as Json;
    assert.equal(finishEnvironment(old), old);
  });

  it('writes an environment the results schema accepts, with the dirty flag as a boolean', () => {
    const environment = finishEnvironment(captureEnvironment());
    const results = {
      schema: 'iou-dispatch/results',
      schemaVersion: 1,
      complete: true,
      incompleteReason: null,
      suiteVersion: '0',
      command: [],
      options: null,
      startedAt: 'a',
      finishedAt: 'b',
      environment,
      lanes: [],
    };
    const checked = validateResults(JSON.parse(JSON.stringify(results)));
    assert.equal(checked.ok, true, checked.ok ? '' : checked.error);
    const e = environment as unknown as Environment;
    if (e.git !== null && e.git !== undefined) {
      assert.equal(typeof e.git.dirty, 'boolean');
      assert.equal(e.gitCommit, `${e.git.commit}${e.git.dirty ? '+dirty' : ''}`);
    }
  });
});
