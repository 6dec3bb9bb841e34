// What a result was measured on: kernel, io_uring probe, CPU, mitigations,
// hypervisor, the suite VM's accelerator, versions, the exact command line.
// Everything is read, never assumed; what cannot be read is null.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { arch, cpus, machine, release, totalmem, version } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeKernel } from '../native/index.js';
import type { Json } from './results.js';

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
function hypervisor(): string | null {
  const flags = read('/proc/cpuinfo')?.match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  if (!flags.split(' ').includes('hypervisor')) return null;
  try {
    return execFileSync('systemd-detect-virt', ['--vm'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    const vendor = read('/sys/class/dmi/id/sys_vendor');
    return vendor === null || vendor === '' ? 'unknown hypervisor' : vendor;
  }
}

/** 'kvm' or 'tcg': the suite's VM runner sets IOU_VM_ACCEL in the guest; null otherwise. */
function virtualization(): 'kvm' | 'tcg' | null {
  const accel = process.env.IOU_VM_ACCEL;
  return accel === 'kvm' || accel === 'tcg' ? accel : null;
}

function gitCommit(): string | null {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty === '' ? commit : `${commit}+dirty`;
  } catch {
    return null;
  }
}

/** The suite's version from package.json. */
export function suiteVersion(): string {
  const pkg = JSON.parse(read(join(ROOT, 'package.json')) ?? '{}') as { version?: string };
  return pkg.version ?? 'unknown';
}

/** Captures the environment of this run. */
export function captureEnvironment(): Json {
  const cpu = cpus();
  return {
    kernel: { release: release(), version: version(), machine: machine(), arch: arch() },
    ioUring: probeKernel() as unknown as Json,
    ioUringDisabledSysctl: read('/proc/sys/kernel/io_uring_disabled'),
    cpu: { model: cpu[0]?.model ?? null, count: cpu.length },
    memoryBytes: totalmem(),
    mitigations: mitigations(),
    hypervisor: hypervisor(),
    virtualization: virtualization(),
    node: process.version,
    suite: suiteVersion(),
    gitCommit: gitCommit(),
  };
}
