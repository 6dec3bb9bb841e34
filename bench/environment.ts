// What a result was measured on: kernel, its configuration and command line,
// io_uring probe, CPU identity, mitigations, BPF JIT, hypervisor, the suite
// VM's accelerator, the CPUs this process may run on, load and steal before
// and after the run, versions, the commit and whether the tree was dirty.
// Everything is read, never assumed; what cannot be read is null. The field
// types are bench/results.ts's Environment; the parsers are bench/proc.ts.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, machine, release, totalmem, version } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { probeKernel } from '../native/index.js';
import {
  affinityFromStatus,
  bpfJitState,
  cgroupCpuLimit,
  type KernelConfigHighlights,
  parseCpuinfo,
  parseKernelConfig,
  parseLoadavg,
  parseProcStat,
} from './proc.js';
import type { Environment, Json, LoadSample } from './results.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** /sys/devices/system/cpu/vulnerabilities/<name>: one line each. */
function mitigations(): Record<string, string> {
  const dir = '/sys/devices/system/cpu/vulnerabilities';
  try {
    return Object.fromEntries(
      readdirSync(dir)
        .sort()
        .map((name) => [name, read(join(dir, name)) ?? 'unreadable']),
    );
  } catch {
    return {};
  }
}

/** The hypervisor, if the CPU says it runs under one: systemd-detect-virt's answer, else the DMI vendor. */
function hypervisor(cpuinfo: string | null): string | null {
  if (cpuinfo === null || !parseCpuinfo(cpuinfo).hypervisorFlag) return null;
  try {
    return execFileSync('systemd-detect-virt', ['--vm'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    const vendor = read('/sys/class/dmi/id/sys_vendor');
    return vendor === null || vendor === '' ? 'unknown hypervisor' : vendor;
  }
}

/** The running kernel's configuration: /proc/config.gz (CONFIG_IKCONFIG_PROC), else /boot/config-<release>. */
function kernelConfig(): KernelConfigHighlights | null {
  try {
    const text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
    return parseKernelConfig(text, '/proc/config.gz');
  } catch {
    const boot = `/boot/config-${release()}`;
    const text = read(boot);
    return text === null ? null : parseKernelConfig(text, boot);
  }
}

/**
 * The tightest cgroup v2 cpu.max on the way from this process's cgroup to
 * the root, in CPUs; null when none limits it or cgroup v2 is not mounted.
 */
function cgroupCpus(): number | null {
  const path = read('/proc/self/cgroup')?.match(/^0::(\/.*)$/m)?.[1];
  if (path === undefined) return null;
  let limit: number | null = null;
  for (let dir = path; ; dir = dirname(dir)) {
    const max = read(join('/sys/fs/cgroup', dir, 'cpu.max'));
    const here = max === null ? null : cgroupCpuLimit(max);
    if (here !== null && (limit === null || here < limit)) limit = here;
    if (dir === '/' || dir === '.') break;
  }
  return limit;
}

/** The CPUs this process may run on (its affinity mask, not the machine's count); null if unreadable. */
export function affinityCpus(): number[] | null {
  const status = read('/proc/self/status');
  return status === null ? null : affinityFromStatus(status);
}

/** Load average and /proc/stat CPU times over `cpus` (all CPUs when null), now. */
export function loadSample(cpus: readonly number[] | null): LoadSample {
  const loadavg = read('/proc/loadavg');
  const stat = read('/proc/stat');
  return {
    at: new Date().toISOString(),
    loadavg: loadavg === null ? null : parseLoadavg(loadavg),
    cpuTimes: stat === null ? null : parseProcStat(stat, cpus),
  };
}

/** 'kvm' or 'tcg': the suite's VM runner sets IOU_VM_ACCEL in the guest; null otherwise. */
function virtualization(): 'kvm' | 'tcg' | null {
  const accel = process.env.IOU_VM_ACCEL;
  return accel === 'kvm' || accel === 'tcg' ? accel : null;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** HEAD and whether tracked files differ from it (untracked files are not built, so not counted). */
export function gitState(): { commit: string; dirty: boolean } | null {
  if (!existsSync(join(ROOT, '.git'))) return null;
  const commit = git(['rev-parse', 'HEAD']);
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return commit === null || status === null ? null : { commit, dirty: status !== '' };
}

/** The suite's version from package.json. */
export function suiteVersion(): string {
  const pkg = JSON.parse(read(join(ROOT, 'package.json')) ?? '{}') as { version?: string };
  return pkg.version ?? 'unknown';
}

/** Captures the environment of this run, with the load sample taken before it. */
export function captureEnvironment(): Json {
  const cpu = cpus();
  const cpuinfo = read('/proc/cpuinfo');
  const affinity = affinityCpus();
  const gitNow = gitState();
  const jit = read('/proc/sys/net/core/bpf_jit_enable');
  const env: Environment = {
    kernel: { release: release(), version: version(), machine: machine(), arch: arch() },
    ioUring: probeKernel() as unknown as Json,
    ioUringDisabledSysctl: read('/proc/sys/kernel/io_uring_disabled'),
    cpu: { model: cpu[0]?.model ?? null, count: cpu.length },
    cpuId: cpuinfo === null ? null : parseCpuinfo(cpuinfo),
    affinity: affinity ?? null,
    availableParallelism: availableParallelism(),
    cgroupCpus: cgroupCpus(),
    memoryBytes: totalmem(),
    kernelConfig: kernelConfig(),
    cmdline: read('/proc/cmdline'),
    mitigations: mitigations(),
    bpfJit: jit === null ? null : bpfJitState(jit),
    hypervisor: hypervisor(cpuinfo),
    virtualization: virtualization(),
    load: { before: loadSample(affinity), after: null },
    node: process.version,
    suite: suiteVersion(),
    // Kept as before ('<sha>+dirty') for older readers; git says the same in two fields.
    gitCommit: gitNow === null ? null : `${gitNow.commit}${gitNow.dirty ? '+dirty' : ''}`,
    git: gitNow,
  };
  return env as unknown as Json;
}

/** `environment` with the load sample after the run filled in (over the same CPUs as before). */
export function finishEnvironment(environment: Json): Json {
  const e = environment as unknown as Environment | null;
  if (e === null || typeof e !== 'object' || e.load === undefined) return environment;
  const after = loadSample(e.affinity ?? null);
  return { ...e, load: { before: e.load.before, after } } as unknown as Json;
}
