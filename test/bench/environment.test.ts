import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureEnvironment } from '../../bench/environment.js';

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
});
