// `npm run vm -- run`: boots a bzImage under QEMU with the host's root as
// the guest's root (read-only, virtio-9p) and a writable share for what
// comes back, runs one command in the project inside (vm/guest-init.sh),
// copies the collected directories back and exits with the command's
// status. KVM is tried first where /dev/kvm is usable; when the guest does
// not come up under it, TCG takes over and the run says so (and the
// results record virtualization: tcg, which every report stamps as not a
// timing). A kernel oops, KASAN report, lockdep splat or hung task fails
// the run whatever the command's status.

import { spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsoleWatch, type KernelProblem } from './console.js';

const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GUEST_INIT = join(PROJECT, 'vm', 'guest-init.sh');

export type Accel = 'kvm' | 'tcg';

export interface RunRequest {
  readonly image: string;
  /** libbpf for the guest's patched lane (IOU_LIBBPF), when the kernel entry has one. */
  readonly libbpf: string | null;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly accel: Accel | 'auto';
  /** Seconds for the whole command; the guest is killed after. */
  readonly timeoutS: number;
  /** Seconds for the guest to come up under TCG (KVM gets a fixed shorter wait). */
  readonly bootTimeoutS: number;
  /** Host directory for the console log and what comes back. */
  readonly out: string;
  /** Project-relative paths copied back into `out` when the command ends. */
  readonly collect: readonly string[];
  readonly command: readonly string[];
}

export type RunOutcome =
  | { kind: 'exited'; status: number; accel: Accel; problem: KernelProblem | null }
  | { kind: 'no-boot'; accel: Accel; reason: string }
  | { kind: 'timeout'; accel: Accel; problem: KernelProblem | null }
  | { kind: 'crashed'; accel: Accel; problem: KernelProblem | null; reason: string };

/** Seconds KVM gets to show the guest's IOU-VM-UP before TCG takes over. */
const KVM_BOOT_TIMEOUT_S = 45;

/** Whether /dev/kvm can be opened for read and write. */
export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A word quoted for sh. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** QEMU's arguments for one boot. */
export function qemuArgs(r: RunRequest, accel: Accel): string[] {
  const append = [
    'console=ttyS0',
    // Every kernel message goes to console.log (only the command's lines are echoed).
    'loglevel=7',
    // Skip the IO-APIC timer check, which misjudges an emulated timer on a loaded host.
    'no_timer_check',
    'panic=-1',
    'root=hostroot',
    'rootfstype=9p',
    'rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose',
    'ro',
    `init=${GUEST_INIT}`,
    `iou_project=${PROJECT}`,
  ].join(' ');
  return [
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg', '-cpu', 'max']),
    '-m',
    String(r.memoryMiB),
    '-smp',
    String(r.cpus),
    '-kernel',
    r.image,
    '-append',
    append,
    '-nodefaults',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-no-reboot',
    '-fsdev',
    'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
    '-device',
    'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
    '-fsdev',
    `local,id=iouout,path=${r.out},security_model=none`,
    '-device',
    'virtio-9p-pci,fsdev=iouout,mount_tag=iou_out',
  ];
}

/** Writes what the guest's init reads: the command, its environment, what to collect. */
function writeGuestFiles(r: RunRequest, accel: Accel): void {
  const dir = join(r.out, '.vm');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'collected'), { recursive: true });
  writeFileSync(join(dir, 'command'), `${r.command.map(shellQuote).join(' ')}\n`);
  const env = [`IOU_VM_ACCEL=${accel}`, 'export IOU_VM_ACCEL'];
  if (r.libbpf !== null) env.push(`IOU_LIBBPF=${shellQuote(r.libbpf)}`, 'export IOU_LIBBPF');
  writeFileSync(join(dir, 'env'), `${env.join('\n')}\n`);
  writeFileSync(join(dir, 'collect'), `${r.collect.join('\n')}\n`);
}

/** Boots once under `accel`; `echo` gets the command's own output lines. */
function boot(
  r: RunRequest,
  accel: Accel,
  bootTimeoutS: number,
  echo: (line: string) => void,
): Promise<RunOutcome> {
  writeGuestFiles(r, accel);
  const log = createWriteStream(join(r.out, accel === 'kvm' ? 'console-kvm.log' : 'console.log'));
  const watch = new ConsoleWatch();
  const child = spawn('qemu-system-x86_64', qemuArgs(r, accel), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let partial = '';
  let timedOut: 'boot' | 'command' | null = null;
  const bootTimer = setTimeout(() => {
    if (!watch.up) {
      timedOut = 'boot';
      child.kill('SIGKILL');
    }
  }, bootTimeoutS * 1000);
  const commandTimer = setTimeout(
    () => {
      timedOut = 'command';
      child.kill('SIGKILL');
    },
    (bootTimeoutS + r.timeoutS) * 1000,
  );
  const stop = () => child.kill('SIGKILL');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  child.stdout.on('data', (chunk: Buffer) => {
    log.write(chunk);
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (watch.feed(line)) echo(line.replace(/\r$/, ''));
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((done) => {
    child.on('error', (e) => {
      clearTimeout(bootTimer);
      clearTimeout(commandTimer);
      done({ kind: 'no-boot', accel, reason: `qemu-system-x86_64 did not start: ${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(bootTimer);
      clearTimeout(commandTimer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (partial !== '' && watch.feed(partial)) echo(partial);
      log.end();
      const qemuSaid = stderr
        .trim()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .at(-1);
      if (!watch.up)
        return done({
          kind: 'no-boot',
          accel,
          reason:
            timedOut === 'boot'
              ? `the guest did not come up within ${bootTimeoutS} s`
              : `qemu exited (${code}) before the guest came up${qemuSaid ? `: ${qemuSaid}` : ''}`,
        });
      if (watch.status !== null)
        return done({ kind: 'exited', status: watch.status, accel, problem: watch.problem });
      if (timedOut === 'command') return done({ kind: 'timeout', accel, problem: watch.problem });
      done({
        kind: 'crashed',
        accel,
        problem: watch.problem,
        reason: `the guest stopped before the command ended (qemu exit ${code}${qemuSaid ? `: ${qemuSaid}` : ''})`,
      });
    });
  });
}

/**
 * Runs the request: KVM first when asked or when 'auto' finds /dev/kvm
 * usable, TCG when KVM does not bring the guest up. `say` gets the run's own
 * one-line messages. Moves the collected directories into `out` only when
 * the command ended (a killed guest leaves only its console log).
 */
export async function runInGuest(
  r: RunRequest,
  say: (line: string) => void,
  echo: (line: string) => void,
): Promise<RunOutcome> {
  mkdirSync(r.out, { recursive: true });
  let outcome: RunOutcome | null = null;
  if (r.accel === 'kvm' || (r.accel === 'auto' && kvmUsable())) {
    say(`booting under KVM (${r.cpus} CPUs, ${r.memoryMiB} MiB)`);
    outcome = await boot(r, 'kvm', r.accel === 'kvm' ? r.bootTimeoutS : KVM_BOOT_TIMEOUT_S, echo);
    if (outcome.kind === 'no-boot' && r.accel === 'auto') {
      say(`KVM: ${outcome.reason}; falling back to TCG (functional only: timings are not valid)`);
      outcome = null;
    }
  }
  if (outcome === null) {
    say(
      `booting under TCG (${r.cpus} CPUs, ${r.memoryMiB} MiB): functional run, timings not valid`,
    );
    outcome = await boot(r, 'tcg', r.bootTimeoutS, echo);
    // A TCG guest on a loaded host now and then stalls early in boot (timer calibration); once more.
    if (outcome.kind === 'no-boot' && /did not come up within/.test(outcome.reason)) {
      say(
        `TCG: ${outcome.reason}; booting once more (the first console log is console-stalled.log)`,
      );
      renameSync(join(r.out, 'console.log'), join(r.out, 'console-stalled.log'));
      outcome = await boot(r, 'tcg', r.bootTimeoutS, echo);
    }
  }
  const collected = join(r.out, '.vm', 'collected');
  if (outcome.kind === 'exited' && existsSync(collected)) {
    for (const name of readdirSync(collected)) {
      rmSync(join(r.out, name), { recursive: true, force: true });
      renameSync(join(collected, name), join(r.out, name));
    }
  }
  // What the guest's init read, and anything a killed guest half-copied: not results.
  rmSync(join(r.out, '.vm'), { recursive: true, force: true });
  return outcome;
}
