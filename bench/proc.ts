// Parsers for the /proc and /sys files the environment records, and the
// figures derived from them (steal time over a run). Pure functions of text:
// the tests feed them fixed sample files; bench/environment.ts reads the real
// ones. Importing this never loads the native addon, so reports can use it.

/** The CPU's identity from the first processor block of /proc/cpuinfo (x86 field names). */
export interface CpuIdentity {
  readonly vendor: string | null;
  readonly family: number | null;
  readonly model: number | null;
  readonly stepping: number | null;
  /** As the kernel prints it (hex, e.g. '0x1000065'). */
  readonly microcode: string | null;
  readonly modelName: string | null;
  /** Processor blocks in the file: the CPUs online, not the ones this process may use. */
  readonly processors: number;
  /** The 'hypervisor' CPUID bit (arch/x86/kernel/cpu/proc.c prints it as a flag). */
  readonly hypervisorFlag: boolean;
}

/** The kernel configuration options that change what a timing means. */
export interface KernelConfigHighlights {
  /** Where it was read: '/proc/config.gz' or '/boot/config-<release>'. */
  readonly source: string;
  /** The preemption model built in (kernel/Kconfig.preempt): none, voluntary, full, lazy or rt. */
  readonly preempt: string | null;
  /** PREEMPT_DYNAMIC: the model can be changed at boot with preempt= (see cmdline). */
  readonly preemptDynamic: boolean;
  readonly hz: number | null;
  readonly noHzFull: boolean;
  /** Sanitizers built in (KASAN, KCSAN, KMSAN, UBSAN, KFENCE): each slows every path it instruments. */
  readonly sanitizers: readonly string[];
  /** PROVE_LOCKING or LOCKDEP: every lock acquisition is tracked. */
  readonly lockdep: boolean;
  /** Other debug options that cost time on the measured paths, by CONFIG_ name without the prefix. */
  readonly debug: readonly string[];
  /** Mitigations built in (CONFIG_MITIGATION_*), without the prefix. */
  readonly mitigations: readonly string[];
  readonly bpfJitAlwaysOn: boolean;
}

/** Jiffies-based CPU times from /proc/stat, in USER_HZ ticks. */
export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  readonly steal: number;
}

/** /proc/loadavg's three averages and its running/total task counts. */
export interface LoadAverage {
  readonly one: number;
  readonly five: number;
  readonly fifteen: number;
  readonly running: number;
  readonly tasks: number;
}

function field(block: string, name: string): string | null {
  const m = block.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'));
  return m?.[1] === undefined ? null : m[1].trim();
}

function int(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value)) return null;
  return Number(value);
}

/** Parses /proc/cpuinfo. */
export function parseCpuinfo(text: string): CpuIdentity {
  const blocks = text.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  const first = blocks[0] ?? text;
  return {
    vendor: field(first, 'vendor_id'),
    family: int(field(first, 'cpu family')),
    model: int(field(first, 'model')),
    stepping: int(field(first, 'stepping')),
    microcode: field(first, 'microcode'),
    modelName: field(first, 'model name'),
    processors: blocks.length,
    hypervisorFlag: (field(first, 'flags') ?? '').split(/\s+/).includes('hypervisor'),
  };
}

// Debug options that add work on the syscall, io_uring, locking or allocation paths
// (lib/Kconfig.debug, mm/Kconfig.debug). DEBUG_KERNEL is left out: it only opens the menu.
const DEBUG_OPTIONS = [
  'DEBUG_ATOMIC_SLEEP',
  'DEBUG_LIST',
  'DEBUG_LOCK_ALLOC',
  'DEBUG_MUTEXES',
  'DEBUG_OBJECTS',
  'DEBUG_PAGEALLOC',
  'DEBUG_PREEMPT',
  'DEBUG_RT_MUTEXES',
  'DEBUG_SPINLOCK',
  'DEBUG_VM',
  'INIT_ON_ALLOC_DEFAULT_ON',
  'INIT_ON_FREE_DEFAULT_ON',
  'KCOV',
  'PROVE_RCU',
  'SLUB_DEBUG_ON',
];
const SANITIZERS = ['KASAN', 'KCSAN', 'KMSAN', 'UBSAN', 'KFENCE'];
// kernel/Kconfig.preempt: exactly one of these is chosen.
const PREEMPT_MODELS: [string, string][] = [
  ['PREEMPT_RT', 'rt'],
  ['PREEMPT_LAZY', 'lazy'],
  ['PREEMPT', 'full'],
  ['PREEMPT_VOLUNTARY', 'voluntary'],
  ['PREEMPT_NONE', 'none'],
];

/** Parses a kernel .config (as /proc/config.gz decompresses to) into its highlights. */
export function parseKernelConfig(text: string, source: string): KernelConfigHighlights {
  const set = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = line.match(/^CONFIG_([A-Za-z0-9_]+)=(.*)$/);
    if (m?.[1] !== undefined && m[2] !== undefined && m[2] !== 'n') set.set(m[1], m[2]);
  }
  const on = (name: string) => set.has(name);
  const hz = int(set.get('HZ') ?? null);
  return {
    source,
    preempt: PREEMPT_MODELS.find(([name]) => on(name))?.[1] ?? null,
    preemptDynamic: on('PREEMPT_DYNAMIC'),
    hz,
    noHzFull: on('NO_HZ_FULL'),
    sanitizers: SANITIZERS.filter(on),
    lockdep: on('PROVE_LOCKING') || on('LOCKDEP'),
    debug: DEBUG_OPTIONS.filter(on),
    mitigations: [...set.keys()]
      .filter((k) => k.startsWith('MITIGATION_'))
      .map((k) => k.slice('MITIGATION_'.length))
      .sort(),
    bpfJitAlwaysOn: on('BPF_JIT_ALWAYS_ON'),
  };
}

/** The kernel's own parameters from /proc/cmdline; arguments after ' -- ' go to init (Documentation/admin-guide/kernel-parameters.rst). */
export function kernelParams(cmdline: string): { kernel: string; init: string | null } {
  const text = cmdline.trim();
  const at = text === '--' || text.startsWith('-- ') ? 0 : text.indexOf(' -- ');
  if (at < 0) return { kernel: text, init: null };
  const init = text.slice(at === 0 ? 2 : at + 4).trim();
  return { kernel: text.slice(0, at).trim(), init: init === '' ? null : init };
}

/** net.core.bpf_jit_enable (net/core/sysctl_net_core.c): 0 off, 1 on, 2 on with debug output. */
export function bpfJitState(value: string): 'off' | 'on' | 'on, debug' | null {
  switch (value.trim()) {
    case '0':
      return 'off';
    case '1':
      return 'on';
    case '2':
      return 'on, debug';
    default:
      return null;
  }
}

/** Parses /proc/loadavg ('0.52 0.58 0.59 2/123 4567'). */
export function parseLoadavg(text: string): LoadAverage | null {
  const m = text.trim().match(/^(\d+\.\d+) (\d+\.\d+) (\d+\.\d+) (\d+)\/(\d+)/);
  if (m === null) return null;
  return {
    one: Number(m[1]),
    five: Number(m[2]),
    fifteen: Number(m[3]),
    running: Number(m[4]),
    tasks: Number(m[5]),
  };
}

/**
 * The CPU times of /proc/stat's per-CPU lines for `cpus`, summed; the
 * all-CPU 'cpu' line when `cpus` is null. Null when a CPU has no line.
 * Guest time is left out: fs/proc/stat.c prints it inside user already
 * (kernel/sched/cputime.c account_guest_time adds to both).
 */
export function parseProcStat(text: string, cpus: readonly number[] | null): CpuTimes | null {
  const lines = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const m = line.match(/^(cpu\d*)\s+(.*)$/);
    if (m?.[1] !== undefined && m[2] !== undefined) {
      lines.set(m[1], m[2].trim().split(/\s+/).map(Number));
    }
  }
  const names = cpus === null ? ['cpu'] : cpus.map((c) => `cpu${c}`);
  const sum = [0, 0, 0, 0, 0, 0, 0, 0];
  for (const name of names) {
    const v = lines.get(name);
    // Kernels before 2.6.11 have no steal column; treat a short line as unreadable.
    if (v === undefined || v.length < 8 || v.some((x) => !Number.isFinite(x))) return null;
    for (let i = 0; i < 8; i++) sum[i] = (sum[i] as number) + (v[i] as number);
  }
  const [user, nice, system, idle, iowait, irq, softirq, steal] = sum as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { user, nice, system, idle, iowait, irq, softirq, steal };
}

function total(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/**
 * Steal between two samples as a percentage of all CPU time that passed on
 * those CPUs; null when no time passed (same tick) or a counter went back.
 */
export function stealPercent(before: CpuTimes, after: CpuTimes): number | null {
  const elapsed = total(after) - total(before);
  const steal = after.steal - before.steal;
  if (elapsed <= 0 || steal < 0) return null;
  return (steal / elapsed) * 100;
}

/** Parses a CPU list as the kernel prints it ('0-3,8,10-11'; lib/bitmap-str.c); null if malformed. */
export function parseCpuList(text: string): number[] | null {
  const out = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === '') return [];
  for (const part of trimmed.split(',')) {
    const m = part.match(/^(\d+)(?:-(\d+))?$/);
    if (m === null) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 65536) return null;
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** Formats CPUs back into the kernel's list form: [0,1,2,5] is '0-2,5'. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The process's affinity from /proc/<pid>/status's Cpus_allowed_list (fs/proc/array.c). */
export function affinityFromStatus(status: string): number[] | null {
  const m = status.match(/^Cpus_allowed_list:\s*(.*)$/m);
  return m?.[1] === undefined ? null : parseCpuList(m[1]);
}

/**
 * The CPU bandwidth a cgroup v2 cpu.max allows, in CPUs ('150000 100000' is
 * 1.5); null for 'max' (no limit) or text it cannot read.
 */
export function cgroupCpuLimit(cpuMax: string): number | null {
  const m = cpuMax.trim().match(/^(\d+) (\d+)$/);
  if (m === null) return null;
  const period = Number(m[2]);
  return period > 0 ? Number(m[1]) / period : null;
}
