// IORING_OP_BPF itself: the SQE each posted version reads, detection by
// probing (on synthetic kernels and on the running one), and the patched
// lane's skip paths.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type BenchOptions, LaneSkipped } from '../../bench/lane.js';
import {
  kib,
  MEMORY_RINGS,
  memoryReport,
  modelPerRegistration,
  patchedLane,
} from '../../bench/lanes/patched.js';
import { STRUCT_SIZES } from '../../designs/memory.js';
import { type BtfTypes, readKernelBtf } from '../../lib/btf.js';
import { type KernelProbe, probeKernel } from '../../native/index.js';
import {
  decodeBpfOpFlags,
  detectBpfOp,
  encodeBpfSqe,
  IORING_OP_BPF,
  POSTED_VERSIONS,
  type PostedVersion,
  versionLine,
} from '../../native/patched.js';
import {
  buildPatched,
  kfuncMismatch,
  libbpfTooOld,
  libbpfVersion,
  memoryGrowth,
  missingToolchain,
  missingTools,
  parsePatchedMemory,
} from '../../native/patched-run.js';
import { btfFromWords } from '../lib/btf-blob.js';

const options: BenchOptions = {
  quick: true,
  lanes: ['patched'],
  designs: [],
  batches: [32],
  threads: [1],
  rings: [1, 16],
  cpus: [],
  oversubscribe: false,
  placement: { mode: 'off', cpus: [] },
  rounds: 1,
  durationMs: 2,
  libbpf: null,
};

describe('IORING_OP_BPF SQE encoding', () => {
  it('puts opcode 65, the op id in the top 8 bits of bpf_op_flags at byte 28, user_data at 32', () => {
    for (const version of ['v1', 'v2', 'v3'] as const) {
      const sqe = encodeBpfSqe(version, { op: 5, progFlags: 0x123, userData: 0xabcdefn });
      assert.equal(sqe.length, 64);
      assert.equal(sqe[0], IORING_OP_BPF);
      assert.equal(sqe.readUInt32LE(28), (5 << 24) | 0x123);
      assert.equal(sqe.readBigUInt64LE(32), 0xabcdefn);
      assert.equal(sqe.readInt32LE(4), -1);
      assert.deepEqual(decodeBpfOpFlags(sqe), { op: 5, progFlags: 0x123 });
    }
  });

  it('names 256 ops in v1 and 16 in v2 and v3', () => {
    assert.equal(decodeBpfOpFlags(encodeBpfSqe('v1', { op: 255, userData: 1n })).op, 255);
    assert.throws(() => encodeBpfSqe('v1', { op: 256, userData: 1n }), RangeError);
    for (const version of ['v2', 'v3'] as const) {
      assert.equal(decodeBpfOpFlags(encodeBpfSqe(version, { op: 15, userData: 1n })).op, 15);
      assert.throws(() => encodeBpfSqe(version, { op: 16, userData: 1n }), /outside 0\.\.15/);
    }
    assert.throws(
      () => encodeBpfSqe('v2', { op: 1, progFlags: 1 << 24, userData: 1n }),
      /low 24 bits/,
    );
  });

  it('needs each version its own setup flag', () => {
    assert.deepEqual(
      Object.values(POSTED_VERSIONS).map((v) => [v.setupFlag, v.setupBit]),
      [
        ['IORING_SETUP_BPF', 20],
        ['IORING_SETUP_BPF_OP', 20],
        ['IORING_SETUP_BPF_EXT', 21],
      ],
    );
  });

  it('agrees with the running kernel on where the op flags sit', (t) => {
    const btf = readKernelBtf();
    if (!btf.ok) return t.skip(btf.reason);
    assert.equal(btf.btf.offsetOf('io_uring_sqe', 'nop_flags'), 28);
    assert.equal(btf.btf.offsetOf('io_uring_sqe', 'user_data'), 32);
  });
});

/** A kernel that has io_uring, with `ops` supported and setup `bits` accepted. */
function kernel(ops: number[], bits: number[], features = 0): KernelProbe {
  return {
    available: true,
    features,
    featureNames: [],
    fastFlags: [],
    registeredRing: true,
    lastOp: Math.max(...ops),
    probeError: null,
    supportedOps: ops,
    nopFlags: [],
    unknownNopFlag: { name: 'x', bit: 30, accepted: false, res: -22, errno: 'EINVAL' },
    setupFlags: [20, 21].map((bit) => ({
      name: `bit ${bit}`,
      bit,
      accepted: bits.includes(bit),
      res: bits.includes(bit) ? 0 : -22,
      errno: bits.includes(bit) ? null : 'EINVAL',
    })),
  };
}

function btf(types: string[]): BtfTypes {
  return {
    sizeOf: () => undefined,
    has: (name) => types.includes(name),
    members: () => undefined,
    offsetOf: () => undefined,
    typedefId: () => undefined,
    structId: () => undefined,
    funcSignature: () => undefined,
    externFuncs: () => [],
    count: types.length,
  };
}

describe('IORING_OP_BPF detection', () => {
  const ops = Array.from({ length: 63 }, (_, i) => i);
  it('tells the posted versions apart by setup bit and BTF types', () => {
    const series = ['uring_bpf_ops'];
    const v = (bits: number[], types: string[]) =>
      detectBpfOp(kernel([...ops, 65], bits), btf(types), null).version;
    assert.equal(v([20], series), 'v1');
    assert.equal(v([20], [...series, 'uring_bpf_ops_kern']), 'v2');
    assert.equal(v([20, 21], [...series, 'uring_bpf_ops_kern']), 'v3');
    // Bit 21 is v3's flag and also where v2 goes once rebased past 7.2's bit 20: both match.
    const bit21 = detectBpfOp(
      kernel([...ops, 65], [21]),
      btf([...series, 'uring_bpf_ops_kern']),
      null,
    );
    assert.deepEqual(bit21.matches, ['v2', 'v3']);
    assert.match(versionLine(bit21) ?? '', /^v2 or v3: setup bit 21.*cannot be told apart/);
    const v1 = detectBpfOp(kernel([...ops, 65], [20]), btf(series), null);
    assert.deepEqual(v1.matches, ['v1']);
    assert.equal(versionLine(v1), 'v1: IORING_SETUP_BPF (bit 20)');
    assert.equal(v1.setupBit, 20);
    // v1 rebased past 7.2's SQ_REWIND: bit 21 without per-ring slots is v1's UAPI, on bit 21.
    const v1at21 = detectBpfOp(kernel([...ops, 65], [21]), btf(series), null);
    assert.deepEqual([v1at21.version, v1at21.setupBit, v1at21.matches], ['v1', 21, ['v1']]);
    assert.match(
      versionLine(v1at21) ?? '',
      /^v1's UAPI on setup bit 21 \(posted: IORING_SETUP_BPF, bit 20\)/,
    );
    assert.equal(bit21.setupBit, 21);
    assert.equal(v([], series), 'unknown');
  });

  it('needs opcode 65 and the struct_ops type, and reports the merged hook on its own', () => {
    const noOp = detectBpfOp(kernel(ops, [20]), btf(['uring_bpf_ops']), null);
    assert.equal(noOp.present, false);
    assert.equal(noOp.version, null);
    const noType = detectBpfOp(kernel([...ops, 65], [20]), btf(['io_uring_bpf_ops']), null);
    assert.equal(noType.present, false);
    assert.equal(noType.loopStepHook, true);
    // Without BTF the opcode decides, and the probes say why BTF was not read.
    const blind = detectBpfOp(kernel([...ops, 65], [21]), null, 'ENOENT');
    assert.equal(blind.present, true);
    assert.match(blind.probes.map((p) => p.result).join(' '), /BTF unreadable \(ENOENT\)/);
  });

  it('reports on the running kernel what it probed, consistently', (t) => {
    const k = probeKernel();
    if (!k.available) return t.skip(k.reason);
    const b = readKernelBtf();
    const d = detectBpfOp(k, b.ok ? b.btf : null, b.ok ? null : b.reason);
    assert.equal(d.probes.length, 7);
    const typePresent = b.ok ? b.btf.has('uring_bpf_ops') : true;
    assert.equal(d.present, k.supportedOps.includes(IORING_OP_BPF) && typePresent);
    assert.match(d.probes[0]?.what ?? '', /^opcode 65 in IORING_REGISTER_PROBE$/);
  });
});

describe('patched lane', () => {
  it('on a kernel without the series, skips as not present with every probe', async (t) => {
    const k = probeKernel();
    if (!k.available) return t.skip(k.reason);
    if (k.supportedOps.includes(IORING_OP_BPF)) return t.skip('this kernel has IORING_OP_BPF');
    await assert.rejects(patchedLane.run({ options, progress: () => {} }), (e: unknown) => {
      assert.ok(e instanceof LaneSkipped);
      assert.match(
        e.message,
        /^IORING_OP_BPF not present \(opcode 65 in IORING_REGISTER_PROBE: not supported/,
      );
      const details = e.details as { probes: unknown[]; present: boolean };
      assert.equal(details.present, false);
      assert.equal(details.probes.length, 7);
      return true;
    });
  });

  it('says exactly what to install when clang or libbpf is missing', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const missing = missingToolchain();
      assert.match(missing ?? '', /clang/);
      assert.match(missing ?? '', /apt-get install clang libbpf-dev/);
    } finally {
      process.env.PATH = path;
    }
  });

  it('refuses a libbpf too old for struct_ops links, naming its version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iou-libbpf-'));
    const header = join(dir, 'libbpf_version.h');
    writeFileSync(header, '#define LIBBPF_MAJOR_VERSION 1\n#define LIBBPF_MINOR_VERSION 1\n');
    assert.deepEqual(libbpfVersion(header), [1, 1]);
    assert.match(
      libbpfTooOld(header) ?? '',
      /^libbpf 1\.1 is too old: struct_ops links need libbpf 1\.4 or newer/,
    );
    writeFileSync(header, '#define LIBBPF_MAJOR_VERSION 1\n#define LIBBPF_MINOR_VERSION 4\n');
    assert.equal(libbpfTooOld(header), null);
    writeFileSync(header, '#define LIBBPF_MAJOR_VERSION 2\n#define LIBBPF_MINOR_VERSION 0\n');
    assert.equal(libbpfTooOld(header), null);
    writeFileSync(header, 'no version here\n');
    assert.match(libbpfTooOld(header) ?? '', /^libbpf \(unknown version\) is too old/);
  });
});

/** Kernel BTF with `kfunc`(struct uring_bpf_data *, int), as v1, v2 and v3 define uring_bpf_set_result. */
function seriesKfuncBtf(kfunc = 'uring_bpf_set_result'): BtfTypes {
  return btfFromWords(
    [
      ...[1, 1 << 24, 4, 32], // 1 INT "int"
      ...[5, 4 << 24, 64], // 2 STRUCT "uring_bpf_data"
      ...[0, 2 << 24, 2], // 3 PTR -> 2
      ...[0, (13 << 24) | 2, 0, 0, 3, 0, 1], // 4 FUNC_PROTO void (3, 1)
      ...[20, (12 << 24) | 1, 4], // 5 FUNC -> 4, global
    ],
    `\0int\0uring_bpf_data\0${kfunc}\0`,
  );
}

// The lane builds these only on a patched kernel; here they are at least compiled,
// so a patched kernel's first run does not meet a syntax error. Needs clang and
// libbpf-dev (.ci/run installs them); any libbpf builds, 1.4 is needed only to load.
const tools = missingTools();
// One build per version for the whole file: clang and cc take a while.
const builds = new Map<PostedVersion, ReturnType<typeof buildPatched>>();
function built(version: PostedVersion) {
  let b = builds.get(version);
  if (b === undefined) {
    b = buildPatched(version);
    builds.set(version, b);
  }
  return b;
}
describe('patched lane programs and runner', { skip: tools ?? false }, () => {
  it('compile for every posted version: the three struct_ops maps, ring_fd from v2 on', () => {
    for (const version of ['v1', 'v2', 'v3'] as const) {
      const b = built(version);
      assert.ok(b.ok, b.ok ? '' : b.reason);
      const object = readFileSync(b.object);
      assert.ok(object.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])), 'an ELF file');
      // e_machine 247 is EM_BPF.
      assert.equal(object.readUInt16LE(18), 247);
      const text = object.toString('latin1');
      assert.ok(text.includes('.struct_ops.link'), 'the maps sit in .struct_ops.link');
      for (const map of ['nop_ops', 'array_ops', 'result_ops'])
        assert.ok(text.includes(map), `${version} has ${map}`);
      assert.equal(text.includes('ring_fd'), version !== 'v1', `${version} and ring_fd`);
      assert.ok(text.includes('uring_bpf_set_result'), 'the kfunc is referenced');
      assert.ok(existsSync(b.runner));
    }
  });

  it('declare the kfunc as the series defines it, so libbpf accepts it on a patched kernel', () => {
    for (const version of ['v1', 'v2', 'v3'] as const) {
      const b = built(version);
      assert.ok(b.ok, b.ok ? '' : b.reason);
      const object = readFileSync(b.object);
      assert.equal(kfuncMismatch(object, seriesKfuncBtf()), null, version);
      assert.equal(
        kfuncMismatch(object, seriesKfuncBtf('other_kfunc_name')),
        'the kernel has no kfunc uring_bpf_set_result, which the programs call',
      );
    }
  });

  it('refuse an object whose kfunc takes a forward-declared struct, naming the kfunc', () => {
    // The first patched run failed this way in libbpf ("func_proto incompatible with vmlinux").
    const dir = mkdtempSync(join(tmpdir(), 'iou-kfunc-'));
    const source = join(dir, 'fwd.bpf.c');
    writeFileSync(
      source,
      [
        'struct uring_bpf_data;',
        'extern void uring_bpf_set_result(struct uring_bpf_data *d, int res) __attribute__((section(".ksyms")));',
        '__attribute__((section("struct_ops/x"))) int x(struct uring_bpf_data *d) { uring_bpf_set_result(d, 1); return 0; }',
        'char LICENSE[] __attribute__((section("license"))) = "GPL";',
        '',
      ].join('\n'),
    );
    const cc = spawnSync(
      'clang',
      ['-O2', '-g', '-target', 'bpf', '-c', source, '-o', `${source}.o`],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(cc.status, 0, cc.stderr);
    assert.equal(
      kfuncMismatch(readFileSync(`${source}.o`), seriesKfuncBtf()),
      'kfunc uring_bpf_set_result: the programs declare (ptr fwd, int) -> void, the kernel has (ptr struct, int) -> void',
    );
  });

  it('runner refuses a kernel without the version setup flag in one line', (t) => {
    const k = probeKernel();
    if (!k.available) return t.skip(k.reason);
    const b = built('v3');
    assert.ok(b.ok, b.ok ? '' : b.reason);
    const run = spawnSync(b.runner, ['--version', 'v3', '--object', b.object], {
      encoding: 'utf8',
    });
    if (run.status === 0) return t.skip('this kernel accepts IORING_SETUP_BPF_EXT');
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim().split('\n').length, 1);
    assert.match(
      run.stderr,
      /^iou-patched: io_uring_setup with setup bit 21 refused \(Invalid argument\)/,
    );
  });

  it('runner answers bad usage with one line and exit 2', () => {
    const b = built('v1');
    assert.ok(b.ok, b.ok ? '' : b.reason);
    const run = spawnSync(b.runner, ['--version', 'v9', '--object', b.object], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^iou-patched: --version must be v1, v2 or v3/);
  });

  it('runner answers a bad --memory with one line and exit 2, before touching the kernel', () => {
    const b = built('v3');
    assert.ok(b.ok, b.ok ? '' : b.reason);
    const usage = (version: string, memory: string) => {
      const run = spawnSync(
        b.runner,
        ['--version', version, '--object', b.object, '--memory', memory],
        { encoding: 'utf8' },
      );
      assert.equal(run.status, 2, `--memory ${memory}: ${run.stderr}`);
      assert.equal(run.stdout, '');
      assert.equal(run.stderr.trim().split('\n').length, 1);
      return run.stderr;
    };
    for (const bad of ['0', '257', '10,abc', '-4', ''])
      assert.match(usage('v3', bad), /^iou-patched: --memory wants ring counts 1\.\.256 \(usage:/);
    assert.match(
      usage('v1', '10,40'),
      /^iou-patched: --memory needs v2 or v3: v1 registers its ops globally, not per ring/,
    );
  });

  it('runner --memory on a kernel without the setup flag fails in one line, printing nothing', (t) => {
    const k = probeKernel();
    if (!k.available) return t.skip(k.reason);
    const b = built('v3');
    assert.ok(b.ok, b.ok ? '' : b.reason);
    const run = spawnSync(b.runner, ['--version', 'v3', '--object', b.object, '--memory', '1'], {
      encoding: 'utf8',
    });
    if (run.status === 0) return t.skip('this kernel accepts IORING_SETUP_BPF_EXT');
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^iou-patched: io_uring_setup with setup bit 21 refused/);
  });
});

/** A reading as iou-patched prints it (kB). */
const kb = (Slab: number, VmallocUsed: number, threads = 90) => ({
  Slab,
  SUnreclaim: Slab,
  VmallocUsed,
  Percpu: 400,
  threads,
});
const settled = { before: true, after: true, teardown: true };
/** iou-patched --memory 10,40 output, shaped like a run on the patched kernel. */
const memoryOutput = JSON.stringify({
  version: 'v3',
  ops: 16,
  settleStepMs: 250,
  memory: [
    {
      mode: 'shared',
      rings: 10,
      registrations: 160,
      notEffective: 0,
      error: null,
      registerMs: 200.4,
      settled,
      before: kb(6972, 3352),
      after: kb(7612, 3352),
      teardown: kb(7100, 3352, 95),
    },
    {
      mode: 'own',
      rings: 10,
      registrations: 160,
      notEffective: 0,
      error: null,
      registerMs: 9143.6,
      settled,
      before: kb(8300, 2892),
      after: kb(10860, 4940),
      teardown: kb(8300, 2892),
    },
    {
      mode: 'shared',
      rings: 40,
      registrations: 1,
      notEffective: 0,
      error:
        'registration 2 of 640 (ring 0, op 1) failed: bpf_map_update_elem: Device or resource busy (errno 16)',
      registerMs: 0,
      settled: { before: true, after: false, teardown: true },
      before: kb(9732, 6096),
      after: null,
      teardown: kb(9732, 6096),
    },
    {
      mode: 'own',
      rings: 40,
      registrations: 640,
      notEffective: 3,
      error:
        '3 of 640 registrations did not take effect; first: ring 0 op 0 completed with res -95',
      registerMs: 36326,
      settled,
      before: kb(12096, 7080),
      after: kb(22596, 16296),
      teardown: kb(14948, 10376),
    },
  ],
});

describe('patched lane memory part', () => {
  it("parses the runner's memory JSON, and refuses what is not that in one line", () => {
    const parsed = parsePatchedMemory(memoryOutput);
    assert.ok(parsed.ok);
    assert.equal(parsed.memory.ops, 16);
    assert.deepEqual(
      parsed.memory.runs.map((r) => [r.mode, r.rings, r.registrations, r.error === null]),
      [
        ['shared', 10, 160, true],
        ['own', 10, 160, true],
        ['shared', 40, 1, false],
        ['own', 40, 640, false],
      ],
    );
    assert.deepEqual(parsed.memory.runs[0]?.before, {
      slabKb: 6972,
      sUnreclaimKb: 6972,
      vmallocUsedKb: 3352,
      percpuKb: 400,
      threads: 90,
    });
    assert.equal(parsed.memory.runs[2]?.after, null);
    for (const [text, why] of [
      ['not json', /^iou-patched --memory printed no results: /],
      ['{"ops":16}', /no "ops" and "memory"/],
      ['{"ops":16,"memory":[{"mode":"both"}]}', /memory\[0\]\.mode is not one of shared, own/],
      [
        '{"ops":16,"memory":[{"mode":"own","rings":1,"registrations":16,"notEffective":0,"error":null,"registerMs":1,"before":{"Slab":1}}]}',
        /memory\[0\]\.before has no Slab and VmallocUsed/,
      ],
    ] as const) {
      const r = parsePatchedMemory(text);
      assert.ok(!r.ok);
      assert.match(r.reason, why);
    }
  });

  it('divides the growth by the registrations, in bytes, and measures nothing from a failed run', () => {
    const parsed = parsePatchedMemory(memoryOutput);
    assert.ok(parsed.ok);
    const [shared10, own10, shared40, own40] = parsed.memory.runs;
    assert.ok(shared10 && own10 && shared40 && own40);
    const g = memoryGrowth(shared10);
    assert.ok(g.ok);
    // 640 kB of Slab over 160 registrations: 4 KiB each.
    assert.deepEqual(g.perRegistration, { slab: 4096, vmallocUsed: 0, total: 4096 });
    assert.deepEqual(g.total, { slab: 640 * 1024, vmallocUsed: 0, total: 640 * 1024 });
    assert.deepEqual(g.residue, { slab: 128 * 1024, vmallocUsed: 0, total: 128 * 1024 });
    assert.equal(g.residueThreads, 5);
    const own = memoryGrowth(own10);
    assert.ok(own.ok);
    assert.deepEqual(own.perRegistration, { slab: 16384, vmallocUsed: 13107.2, total: 29491.2 });
    assert.deepEqual(memoryGrowth(shared40), {
      ok: false,
      reason:
        'registration 2 of 640 (ring 0, op 1) failed: bpf_map_update_elem: Device or resource busy (errno 16)',
    });
    const notEffective = memoryGrowth(own40);
    assert.ok(!notEffective.ok);
    assert.match(notEffective.reason, /^3 of 640 registrations did not take effect/);
    // Registrations that did not take effect fail the run even without an error line.
    assert.deepEqual(memoryGrowth({ ...own40, error: null }), {
      ok: false,
      reason: '3 registrations did not take effect',
    });
  });

  it('gives the model per-ctx figure per registration, shared and per ring', () => {
    // Shared, 40 rings x 16: 16 x 640 ops slots + 24 x 40 wait queues + 624 extra maps
    // x (512 + 4096) + 640 x (104 link + 184 file) = 3,070,912 bytes over 640.
    assert.equal(modelPerRegistration('shared', 40, 16, STRUCT_SIZES), 3070912 / 640);
    // Per ring: no extra maps (the model leaves the programs and their maps out).
    assert.equal(modelPerRegistration('own', 40, 16, STRUCT_SIZES), 195520 / 640);
    assert.equal(modelPerRegistration('own', 1, 17, STRUCT_SIZES), null);
    assert.equal(kib(4798.3), '4.7 KiB');
    assert.equal(kib(-3 * 1024), '-3.0 KiB');
    assert.equal(kib(4.5 * 1024 * 1024), '4.5 MiB');
    assert.deepEqual([...MEMORY_RINGS], [10, 40]);
  });

  it('makes one bytes metric per measured (mode, rings) and one note per mode, failures included', () => {
    const parsed = parsePatchedMemory(memoryOutput);
    assert.ok(parsed.ok);
    const report = memoryReport(parsed.memory, 'v2/v3', (mode, rings) =>
      mode === 'shared' ? 4.5 * 1024 + rings : 300,
    );
    assert.deepEqual(
      report.metrics.map((m) => [m.id, m.unit, m.better, m.values, m.lane]),
      [
        ['patched-memory/shared/r10', 'bytes', 'lower', [4096], 'patched'],
        ['patched-memory/own/r10', 'bytes', 'lower', [29491.2], 'patched'],
      ],
    );
    assert.deepEqual(report.metrics[0]?.labels, {
      mode: 'shared',
      rings: 10,
      ops: 16,
      registrations: 160,
      version: 'v2/v3',
    });
    assert.equal(report.metrics[0]?.vsBaseline, null);
    assert.equal(report.notes.length, 2);
    assert.equal(
      report.notes[0],
      "kernel memory per registration, programs shared (loaded once; each registration a struct_ops map made by hand naming them, and its link), as (Slab + VmallocUsed growth) / registrations with 16 ops per ring: 10 rings: 4.0 KiB (Slab 4.0 KiB + VmallocUsed 0.0 KiB; 640.0 KiB in all for 160; after teardown 128.0 KiB remained, with 5 more tasks); 40 rings: not measured (registration 2 of 640 (ring 0, op 1) failed: bpf_map_update_elem: Device or resource busy (errno 16)); the memory model (designs/per-ctx.ts, programs shared) gives 4.5 KiB at 10 rings, 4.5 KiB at 40 rings, counting also each ring's op table, which the ring allocates before the first reading here; VmallocUsed moves in whole 2 MiB bpf_prog_pack steps on x86 (each map's 4 KiB trampoline image and the JITed programs come from them), so it averages out only over many registrations",
    );
    assert.match(
      report.notes[1] ?? '',
      /^kernel memory per registration, programs per registration \(.*\), as \(Slab \+ VmallocUsed growth\) \/ registrations with 16 ops per ring: 10 rings: 28\.8 KiB \(Slab 16\.0 KiB \+ VmallocUsed 12\.8 KiB; 4\.5 MiB in all for 160; after teardown 0\.0 KiB remained, with 0 more tasks\); 40 rings: not measured \(3 of 640 registrations did not take effect; .*\); the memory model \(designs\/per-ctx\.ts, programs per ring\) gives 0\.3 KiB at 10 rings, 0\.3 KiB at 40 rings, counting also each ring's op table and leaving out the programs and their maps/,
    );
    const details = report.details as { ops: number; runs: { notMeasured: string | null }[] };
    assert.equal(details.ops, 16);
    assert.equal(details.runs.length, 4);
    assert.deepEqual(
      details.runs.map((r) => r.notMeasured === null),
      [true, false, true, false],
    );
  });
});
