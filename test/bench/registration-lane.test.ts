// The registration lane: each C design's registration really lets every ring
// name the program and its undoing really stops them (checked through the
// addon, per design); the lane runs with --rings 1,16 and produces metrics
// for every design; bad --rings is one line and exit 2; and the real
// struct_ops stand-in registers and unregisters in the kernel's own list.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  checkEffect,
  registrationId,
  registrationReps,
  structOpsId,
} from '../../bench/lanes/registration.js';
import { type Metric, readResults } from '../../bench/results.js';
import { readKernelBtf } from '../../lib/btf.js';
import { nativeDesigns } from '../../native/designs.js';
import { openTcpCa, STRUCT_OPS_STANDIN, tcpCaBtf } from '../../native/struct-ops.js';

const CLI = fileURLToPath(new URL('../../bench/cli.js', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'iou-reg-'));
const bench = (args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });

const native = nativeDesigns();
const noAddon = native.ok ? false : native.reason;

/** Designs whose registration is one call per ring. */
const PER_RING = new Set(['per-ctx', 'per-ctx+unregistering-bit', 'per-fd-fixed']);

describe('registration lane: the C registrations', { skip: noAddon }, () => {
  assert.ok(native.ok);
  const designs = native.addon.designDefs().map((d) => d.name);

  for (const design of designs)
    it(`${design}: after register every one of 16 rings runs the program, after unregister none`, () => {
      const b = new native.addon.RegBench(design, 16);
      try {
        assert.equal(b.calls(), PER_RING.has(design) ? 16 : 1);
        assert.equal(b.register(), 0);
        assert.equal(b.probe(), 16);
        assert.equal(b.unregister(), 0);
        assert.equal(b.probe(), 0);
        // And again: the unregistration left nothing behind that blocks the next registration.
        assert.equal(checkEffect(b, 16), null);
        const t = b.time(3);
        assert.equal(t.error, 0);
        assert.equal(t.registerNs.length, 3);
        assert.ok(t.unregisterNs.every((ns) => ns > 0));
      } finally {
        b.destroy();
      }
    });

  it('says what went wrong when a registration does not reach every ring', () => {
    const fake = (ran: number[]) => {
      let i = 0;
      return { register: () => 0, unregister: () => 0, probe: () => ran[i++] ?? 0 };
    };
    assert.equal(checkEffect(fake([16, 0]), 16), null);
    assert.equal(checkEffect(fake([15, 0]), 16), 'after register, 15 of 16 rings ran the program');
    assert.equal(
      checkEffect(fake([16, 1]), 16),
      'after unregister, 1 of 16 rings still ran the program',
    );
    assert.match(
      checkEffect({ register: () => -16, unregister: () => 0, probe: () => 0 }, 1) ?? '',
      /^register failed: EBUSY/,
    );
  });

  it('refuses an unknown design and a ring count below one', () => {
    assert.throws(() => new native.addon.RegBench('per-ring', 1), /errno 2/);
    assert.throws(() => new native.addon.RegBench('per-ctx', 0), /errno 22/);
  });

  it('repeats many short cycles and few long ones', () => {
    assert.equal(registrationReps(1, false), 400);
    assert.equal(registrationReps(4096, false), 3);
    assert.ok(registrationReps(16, true) < registrationReps(16, false));
  });
});

describe('registration lane: bench --lanes registration', () => {
  for (const rings of ['0', '70000', 'x', '1,,16', '-1']) {
    // '--rings -1' reads as a missing value to parseArgs: its hint, on one line.
    const pattern =
      rings === '-1'
        ? /^bench: Option '--rings' argument is ambiguous\. .*'--rings=-XYZ'\.$/
        : /^bench: --rings: '.*' is not a whole number from 1 to 65536$/;
    it(`rejects --rings ${rings} with one line and exit 2, writing nothing`, () => {
      const out = join(tmp(), 'out');
      const run = bench(['--lanes', 'registration', '--rings', rings, '--out', out]);
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stderr.trim().split('\n').length, 1);
      assert.match(run.stderr.trim(), pattern);
      assert.equal(existsSync(out), false);
    });
  }

  it('measures every design at --rings 1,16, and the struct_ops stand-in or says why not', {
    skip: noAddon,
  }, () => {
    assert.ok(native.ok);
    const out = join(tmp(), 'out');
    const run = bench([
      '--quick',
      '--lanes',
      'registration',
      '--rings',
      '16,1,16',
      '--rounds',
      '2',
      '--out',
      out,
    ]);
    assert.equal(run.status, 0, run.stderr);
    const r = readResults(join(out, 'results.json'));
    assert.ok(r.ok, r.ok ? '' : r.error);
    const lane = r.results.lanes[0];
    assert.equal(lane?.lane, 'registration');
    assert.equal(lane?.status, 'ok', lane?.reason ?? '');
    assert.deepEqual((r.results.options as { rings: number[] }).rings, [1, 16]);
    for (const d of native.addon.designDefs())
      for (const n of [1, 16])
        for (const op of ['register', 'unregister'] as const) {
          const m: Metric | undefined = lane?.metrics.find(
            (x) => x.id === registrationId(d.name, n, op),
          );
          assert.ok(m, `${d.name} r${n} ${op}`);
          assert.equal(m.values.length, 2);
          assert.equal(m.labels.calls, PER_RING.has(d.name) ? n : 1);
        }
    const kernel = lane?.metrics.find(
      (x) => x.id === structOpsId(STRUCT_OPS_STANDIN.type, 'detach'),
    );
    if (kernel === undefined)
      assert.ok(lane?.notes.some((n) => n.startsWith('struct_ops attach/detach not measured: ')));
    else assert.ok(lane?.notes.some((n) => n.includes('tcp_congestion_ops stood in')));
    assert.ok(lane?.notes.some((n) => n.startsWith('C grace period: ')));
    assert.match(run.stdout, /registration lane: ok/);
  });
});

function structOpsMissing(): string | false {
  if (process.getuid?.() !== 0) return 'loading struct_ops needs root';
  if (!native.ok) return native.reason;
  const btf = readKernelBtf();
  if (!btf.ok) return btf.reason;
  const facts = tcpCaBtf(btf.btf);
  return facts.ok ? false : facts.reason;
}

describe('registration lane: the real struct_ops stand-in', { skip: structOpsMissing() }, () => {
  it('attach lists the congestion control in the kernel, detach removes it, repeatedly', () => {
    const btf = readKernelBtf();
    assert.ok(btf.ok);
    const facts = tcpCaBtf(btf.btf);
    assert.ok(facts.ok);
    const opened = openTcpCa(facts.btf);
    assert.ok(opened.ok, opened.ok ? '' : opened.reason);
    const ops = opened.ops;
    try {
      for (let i = 0; i < 2; i++) {
        assert.equal(ops.listed(), 0);
        assert.equal(ops.attach().errno, 0);
        assert.equal(ops.listed(), 1);
        assert.equal(ops.attach().errno, -16, 'one link at a time');
        assert.equal(ops.detach().errno, 0);
        assert.equal(ops.listed(), 0);
      }
      const t = ops.time(2);
      assert.equal(t.errno, 0, t.error ?? '');
      assert.equal(t.detachNs.length, 2);
      assert.match(ops.info().name, /^iou_\d+_\d+$/);
    } finally {
      ops.close();
    }
  });

  it('says why when the BTF lacks the type', () => {
    const none = tcpCaBtf({
      sizeOf: () => undefined,
      has: () => false,
      members: () => undefined,
      offsetOf: () => undefined,
      typedefId: () => undefined,
      structId: () => undefined,
      funcSignature: () => undefined,
      externFuncs: () => [],
      count: 0,
    });
    assert.equal(none.ok, false);
    assert.match(none.ok ? '' : none.reason, /no bpf_struct_ops_tcp_congestion_ops/);
  });
});
