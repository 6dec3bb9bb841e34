// The guest console as `npm run vm -- run` reads it: its init's markers and
// the kernel's own reports, which fail a run whatever the command says.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsoleWatch } from '../../vm/console.js';

function feed(lines: readonly string[]) {
  const w = new ConsoleWatch();
  const echoed = lines.filter((l) => w.feed(l));
  return { w, echoed };
}

describe('guest console', () => {
  it('echoes only the command output between IOU-VM-UP and the status marker', () => {
    const { w, echoed } = feed([
      '[    0.100000] Linux version 7.2.13',
      'IOU-VM-UP',
      'io_uring on Linux 7.2.13',
      '[    9.000000] random: crng init done',
      'IOU-VM-STATUS 3',
      '[   10.000000] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000300',
    ]);
    assert.deepEqual(echoed, ['io_uring on Linux 7.2.13']);
    assert.equal(w.up, true);
    assert.equal(w.status, 3);
    // Init's exit after the status is the expected end, not a problem.
    assert.equal(w.problem, null);
  });

  it('reports a KASAN report with its first lines, timestamps stripped', () => {
    const { w } = feed([
      'IOU-VM-UP',
      '[   12.000001] ==================================================================',
      '[   12.000002] BUG: KASAN: slab-use-after-free in io_uring_bpf_issue+0x4a/0x90',
      '[   12.000003] Read of size 8 at addr ffff888003c1a010 by task iou-patched/97',
      'program output in between',
      '[   12.000004] CPU: 1 UID: 0 PID: 97 Comm: iou-patched',
      'IOU-VM-STATUS 0',
    ]);
    assert.equal(w.problem?.kind, 'KASAN report');
    assert.equal(w.problem?.phase, 'command');
    assert.deepEqual(w.problem?.lines, [
      'BUG: KASAN: slab-use-after-free in io_uring_bpf_issue+0x4a/0x90',
      'Read of size 8 at addr ffff888003c1a010 by task iou-patched/97',
      'CPU: 1 UID: 0 PID: 97 Comm: iou-patched',
    ]);
  });

  it('keeps the call trace of an oops and leaves out its register dump', () => {
    const { w } = feed([
      '[   43.620618] BUG: kernel NULL pointer dereference, address: 0000000000000020',
      '[   43.630961] CPU: 0 UID: 0 PID: 81 Comm: iou-patched Not tainted 7.2.13 #1',
      '[   43.631650] RIP: 0010:__fget_files_rcu+0x11/0x6a',
      '[   43.632146] Code: 48 89 04 24 e8 a0 fc ff ff 48 8b 04 24',
      '[   43.638355] RAX: ff11000000a22000 RBX: 0000000000004000 RCX: 0000000000000000',
      '[   43.646552] Call Trace:',
      '[   43.647939]  ? io_bpf_reg_unreg+0x33/0x13f',
    ]);
    assert.equal(w.problem?.kind, 'oops');
    assert.deepEqual(w.problem?.lines, [
      'BUG: kernel NULL pointer dereference, address: 0000000000000020',
      'CPU: 0 UID: 0 PID: 81 Comm: iou-patched Not tainted 7.2.13 #1',
      'RIP: 0010:__fget_files_rcu+0x11/0x6a',
      'Call Trace:',
      ' ? io_bpf_reg_unreg+0x33/0x13f',
    ]);
  });

  it('tells lockdep, hung tasks and oopses apart, and keeps the first', () => {
    const kind = (line: string) => feed(['IOU-VM-UP', line]).w.problem?.kind;
    assert.equal(
      kind('[ 1.0] WARNING: possible circular locking dependency detected'),
      'lockdep splat',
    );
    assert.equal(
      kind('[ 30.5] INFO: task iou-patched:97 blocked for more than 20 seconds.'),
      'hung task',
    );
    assert.equal(kind('[ 2.0] BUG: unable to handle page fault for address: 0000'), 'oops');
    assert.equal(
      kind('[ 2.0] WARNING: CPU: 1 PID: 97 at io_uring/bpf_op.c:120 x+0x1/0x2'),
      'kernel warning',
    );
    const { w } = feed([
      '[ 1.0] BUG: KASAN: use-after-free in a',
      '[ 2.0] WARNING: possible circular locking dependency detected',
    ]);
    assert.equal(w.problem?.kind, 'KASAN report');
    // Before IOU-VM-UP: the boot's, not the command's.
    assert.equal(w.problem?.phase, 'boot');
  });

  it('does not take a program printing "Oops" for the kernel', () => {
    const { w, echoed } = feed([
      'IOU-VM-UP',
      'Oops: the test expected 42',
      'BUG: KASAN: in a test name',
    ]);
    assert.equal(w.problem, null);
    assert.equal(echoed.length, 2);
  });
});
