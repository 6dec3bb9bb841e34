// The /proc and /sys parsers on fixed sample files (shapes as the kernel prints
// them: fs/proc/stat.c, fs/proc/loadavg.c, arch/x86/kernel/cpu/proc.c, fs/proc/array.c).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  affinityFromStatus,
  bpfJitState,
  cgroupCpuLimit,
  formatCpuList,
  kernelParams,
  parseCpuinfo,
  parseCpuList,
  parseKernelConfig,
  parseLoadavg,
  parseProcStat,
  stealPercent,
} from '../../bench/proc.js';

const CPUINFO_INTEL = `processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8488C
stepping\t: 8
microcode\t: 0x2b000590
cpu MHz\t\t: 2400.000
flags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm
bugs\t\t: spectre_v1 spectre_v2 spec_store_bypass

processor\t: 1
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8488C
stepping\t: 8
microcode\t: 0x2b000590
flags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm

processor\t: 2
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8488C
stepping\t: 8
microcode\t: 0x2b000590
flags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm
`;

const CPUINFO_AMD_BARE = `processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC 9R14 96-Core Processor
stepping\t: 1
microcode\t: 0xa101148
flags\t\t: fpu vme de pse tsc msr pae
`;

const CONFIG_DEBUG = `#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 6.18.0 Kernel Configuration
#
CONFIG_CC_VERSION_TEXT="gcc (GCC) 15.2.1"
# CONFIG_PREEMPT_NONE is not set
# CONFIG_PREEMPT_VOLUNTARY is not set
CONFIG_PREEMPT=y
# CONFIG_PREEMPT_LAZY is not set
CONFIG_PREEMPT_RT=y
CONFIG_PREEMPT_DYNAMIC=y
CONFIG_HZ_1000=y
CONFIG_HZ=1000
CONFIG_NO_HZ_FULL=y
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
# CONFIG_KCSAN is not set
CONFIG_UBSAN=y
CONFIG_PROVE_LOCKING=y
CONFIG_LOCKDEP=y
CONFIG_DEBUG_KERNEL=y
CONFIG_DEBUG_LIST=y
CONFIG_DEBUG_ATOMIC_SLEEP=y
CONFIG_DEBUG_VM=n
CONFIG_MITIGATION_RETPOLINE=y
CONFIG_MITIGATION_SRSO=y
# CONFIG_MITIGATION_PAGE_TABLE_ISOLATION is not set
CONFIG_BPF_JIT=y
# CONFIG_BPF_JIT_ALWAYS_ON is not set
`;

const CONFIG_PLAIN = `CONFIG_PREEMPT_VOLUNTARY=y
CONFIG_HZ_250=y
CONFIG_HZ=250
# CONFIG_KASAN is not set
CONFIG_DEBUG_KERNEL=y
CONFIG_BPF_JIT_ALWAYS_ON=y
`;

// Three CPUs; cpu1 had 40 ticks of steal between the two samples.
const STAT_BEFORE = `cpu  3000 10 1000 50000 100 0 50 60 0 0
cpu0 1000 5 300 17000 40 0 20 10 0 0
cpu1 1000 5 400 16000 30 0 20 40 0 0
cpu2 1000 0 300 17000 30 0 10 10 0 0
intr 123456 0 9 0
ctxt 987654
btime 1764662400
`;
const STAT_AFTER = `cpu  3400 10 1100 50500 100 0 50 100 30 0
cpu0 1100 5 320 17160 40 0 20 10 10 0
cpu1 1200 5 450 16100 30 0 20 80 20 0
cpu2 1100 0 330 17240 30 0 10 10 0 0
intr 123999 0 9 0
`;

describe('/proc/cpuinfo', () => {
  it('reads vendor, family, model, stepping, microcode from the first block and counts blocks', () => {
    assert.deepEqual(parseCpuinfo(CPUINFO_INTEL), {
      vendor: 'GenuineIntel',
      family: 6,
      model: 143,
      stepping: 8,
      microcode: '0x2b000590',
      modelName: 'Intel(R) Xeon(R) Platinum 8488C',
      processors: 3,
      hypervisorFlag: true,
    });
  });

  it('tells the model line from "model name" and sees no hypervisor flag on bare metal', () => {
    const id = parseCpuinfo(CPUINFO_AMD_BARE);
    assert.equal(id.model, 17);
    assert.equal(id.modelName, 'AMD EPYC 9R14 96-Core Processor');
    assert.equal(id.microcode, '0xa101148');
    assert.equal(id.hypervisorFlag, false);
    assert.equal(id.processors, 1);
  });

  it('gives nulls, not guesses, for a file without x86 fields (arm64 prints others)', () => {
    const id = parseCpuinfo('processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n');
    assert.equal(id.vendor, null);
    assert.equal(id.family, null);
    assert.equal(id.microcode, null);
    assert.equal(id.processors, 1);
  });
});

describe('kernel config', () => {
  it('reads the preemption model, HZ, sanitizers, lockdep and debug options', () => {
    const c = parseKernelConfig(CONFIG_DEBUG, '/boot/config-6.18.0');
    assert.equal(c.source, '/boot/config-6.18.0');
    assert.equal(c.preempt, 'rt', 'PREEMPT_RT wins over the PREEMPT it comes with');
    assert.equal(c.preemptDynamic, true);
    assert.equal(c.hz, 1000);
    assert.equal(c.noHzFull, true);
    assert.deepEqual(c.sanitizers, ['KASAN', 'UBSAN']);
    assert.equal(c.lockdep, true);
    // DEBUG_KERNEL only opens the menu; DEBUG_VM=n is off.
    assert.deepEqual(c.debug, ['DEBUG_ATOMIC_SLEEP', 'DEBUG_LIST']);
    assert.deepEqual(c.mitigations, ['RETPOLINE', 'SRSO']);
    assert.equal(c.bpfJitAlwaysOn, false);
  });

  it('reads a plain distribution config as plain', () => {
    const c = parseKernelConfig(CONFIG_PLAIN, '/proc/config.gz');
    assert.equal(c.preempt, 'voluntary');
    assert.equal(c.preemptDynamic, false);
    assert.equal(c.hz, 250);
    assert.deepEqual(c.sanitizers, []);
    assert.equal(c.lockdep, false);
    assert.deepEqual(c.debug, []);
    assert.equal(c.bpfJitAlwaysOn, true);
  });

  it('says null for what the file does not set', () => {
    const c = parseKernelConfig('# nothing\n', 'x');
    assert.equal(c.preempt, null);
    assert.equal(c.hz, null);
  });
});

describe('/proc/cmdline', () => {
  it('splits the kernel parameters from the arguments after -- that go to init', () => {
    assert.deepEqual(kernelParams('BOOT_IMAGE=/vmlinuz root=/dev/vda1 quiet\n'), {
      kernel: 'BOOT_IMAGE=/vmlinuz root=/dev/vda1 quiet',
      init: null,
    });
    assert.deepEqual(kernelParams('console=ttyS0 mitigations=off -- --init-flag 1'), {
      kernel: 'console=ttyS0 mitigations=off',
      init: '--init-flag 1',
    });
    assert.deepEqual(kernelParams('-- single'), { kernel: '', init: 'single' });
    // A parameter that merely contains dashes is not the separator.
    assert.deepEqual(kernelParams('foo=a--b'), { kernel: 'foo=a--b', init: null });
  });
});

describe('net.core.bpf_jit_enable', () => {
  it('maps 0, 1 and 2 and rejects anything else', () => {
    assert.equal(bpfJitState('0\n'), 'off');
    assert.equal(bpfJitState('1'), 'on');
    assert.equal(bpfJitState('2'), 'on, debug');
    assert.equal(bpfJitState('3'), null);
    assert.equal(bpfJitState(''), null);
  });
});

describe('/proc/loadavg', () => {
  it('reads the three averages and the task counts', () => {
    assert.deepEqual(parseLoadavg('1.37 1.90 2.88 11/194 3179\n'), {
      one: 1.37,
      five: 1.9,
      fifteen: 2.88,
      running: 11,
      tasks: 194,
    });
    assert.equal(parseLoadavg('garbage'), null);
  });
});

describe('/proc/stat and steal', () => {
  it('sums the per-CPU lines of the given CPUs, or takes the all-CPU line', () => {
    assert.deepEqual(parseProcStat(STAT_BEFORE, null), {
      user: 3000,
      nice: 10,
      system: 1000,
      idle: 50000,
      iowait: 100,
      irq: 0,
      softirq: 50,
      steal: 60,
    });
    const two = parseProcStat(STAT_BEFORE, [0, 1]);
    assert.equal(two?.user, 2000);
    assert.equal(two?.steal, 50);
    assert.equal(parseProcStat(STAT_BEFORE, [7]), null, 'a CPU without a line');
    assert.equal(parseProcStat('cpu  1 2 3 4\n', null), null, 'no steal column');
  });

  it("computes steal as a share of the time that passed on the run's CPUs, guest time not counted twice", () => {
    // cpu1 alone: +200 user, +50 system, +100 idle, +40 steal = 390 ticks; 40/390.
    const b1 = parseProcStat(STAT_BEFORE, [1]);
    const a1 = parseProcStat(STAT_AFTER, [1]);
    assert.ok(b1 !== null && a1 !== null);
    assert.equal((stealPercent(b1, a1) ?? 0).toFixed(3), ((40 / 390) * 100).toFixed(3));
    // cpu2 had no steal.
    const b2 = parseProcStat(STAT_BEFORE, [2]);
    const a2 = parseProcStat(STAT_AFTER, [2]);
    assert.ok(b2 !== null && a2 !== null);
    assert.equal(stealPercent(b2, a2), 0);
    // All CPUs: +400 +100 +500 +40 = 1040 ticks, 40 steal; the guest column (+30) is inside user.
    const b = parseProcStat(STAT_BEFORE, null);
    const a = parseProcStat(STAT_AFTER, null);
    assert.ok(b !== null && a !== null);
    assert.equal((stealPercent(b, a) ?? 0).toFixed(3), ((40 / 1040) * 100).toFixed(3));
    assert.equal(stealPercent(a, a), null, 'no time passed');
    assert.equal(stealPercent(a, b), null, 'counters went back');
  });
});

describe('CPU lists and affinity', () => {
  it('parses and formats the kernel list form', () => {
    assert.deepEqual(parseCpuList('0-3,8,10-11'), [0, 1, 2, 3, 8, 10, 11]);
    assert.deepEqual(parseCpuList('5'), [5]);
    assert.deepEqual(parseCpuList(''), []);
    assert.equal(parseCpuList('3-1'), null);
    assert.equal(parseCpuList('a'), null);
    assert.equal(formatCpuList([11, 0, 1, 2, 3, 8, 10]), '0-3,8,10-11');
    assert.equal(formatCpuList([1, 1]), '1');
  });

  it("reads the process's affinity from /proc/self/status", () => {
    const status =
      'Name:\tnode\nCpus_allowed:\t5\nCpus_allowed_list:\t0,2\nMems_allowed_list:\t0\n';
    assert.deepEqual(affinityFromStatus(status), [0, 2]);
    assert.equal(affinityFromStatus('Name:\tnode\n'), null);
  });

  it('reads a cgroup v2 cpu.max as CPUs, and no limit as null', () => {
    assert.equal(cgroupCpuLimit('150000 100000\n'), 1.5);
    assert.equal(cgroupCpuLimit('max 100000'), null);
    assert.equal(cgroupCpuLimit(''), null);
  });
});
