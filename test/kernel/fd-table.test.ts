import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Machine } from '../../designs/machine.js';
import { perFd } from '../../designs/per-fd.js';
import { programSpec } from '../../designs/world.js';
import { errnoOf, unwrap } from '../helpers.js';

describe('fd table and files', () => {
  it('hands out the lowest free fd and reuses a closed one', () => {
    const m = new Machine(perFd);
    const p = m.world.createProcess();
    const a = unwrap(m.run(p, m.world.loadProgram(p, programSpec('a'))));
    const b = unwrap(m.run(p, m.world.loadProgram(p, programSpec('b'))));
    assert.deepEqual([a, b], [3, 4]);
    unwrap(m.run(p, m.world.close(p, a)));
    assert.equal(unwrap(m.run(p, m.world.dup(p, b))), 3);
  });

  it('frees a program only when its last fd, in any process, is closed', () => {
    const m = new Machine(perFd);
    const p = m.world.createProcess();
    const q = m.world.createProcess();
    const fd = unwrap(m.run(p, m.world.loadProgram(p, programSpec('a'))));
    const passed = unwrap(m.run(p, m.world.passFd(p, fd, q)));
    unwrap(m.run(p, m.world.close(p, fd)));
    assert.equal(m.world.programs[0]?.freed, false);
    unwrap(m.run(q, m.world.close(q, passed)));
    assert.equal(m.world.programs[0]?.released, true);
    assert.equal(m.settle().kind, 'done', 'the free ran after its grace period');
    assert.equal(m.world.programs[0]?.freed, true);
  });

  it('fails close, dup and passing of an fd that is not open with EBADF', () => {
    const m = new Machine(perFd);
    const p = m.world.createProcess();
    assert.equal(errnoOf(m.run(p, m.world.close(p, 3))), 'EBADF');
    assert.equal(errnoOf(m.run(p, m.world.dup(p, 3))), 'EBADF');
    assert.equal(errnoOf(m.run(p, m.world.passFd(p, 3, p))), 'EBADF');
  });

  it('refuses to load a program without CAP_BPF', () => {
    const m = new Machine(perFd);
    const p = m.world.createProcess({ capBpf: false });
    assert.equal(errnoOf(m.run(p, m.world.loadProgram(p, programSpec('a')))), 'EPERM');
  });

  it('detaches the table on exit so the exiting task finds no fd', () => {
    const m = new Machine(perFd);
    const p = m.world.createProcess();
    const fd = unwrap(m.run(p, m.world.loadProgram(p, programSpec('a'))));
    unwrap(m.run(p, m.world.exit(p)));
    assert.equal(p.fds.peek(fd), undefined);
    assert.equal(m.world.programs[0]?.released, true);
    assert.equal(errnoOf(m.run(p, m.world.exit(p))), 'ESRCH');
  });
});
