// Reads a guest's serial console as it streams: the markers the guest's
// init prints (vm/guest-init.sh) and the kernel's own reports of trouble.
// Only lines with a printk timestamp ("[   12.345678] ") are the kernel's
// (the suite's kernel config sets PRINTK_TIME), so a command that prints
// "Oops" is not taken for a kernel oops.

/** Kernel reports that fail a guest run whatever the command's status. */
const PROBLEMS: readonly (readonly [RegExp, string])[] = [
  [/BUG: KASAN: /, 'KASAN report'],
  [/BUG: kernel NULL pointer dereference/, 'oops'],
  [/BUG: unable to handle /, 'oops'],
  [/Oops: /, 'oops'],
  [/general protection fault/, 'oops'],
  [/kernel BUG at /, 'BUG'],
  [/WARNING: possible circular locking dependency/, 'lockdep splat'],
  [/WARNING: possible recursive locking/, 'lockdep splat'],
  [/WARNING: inconsistent lock state/, 'lockdep splat'],
  [/BUG: sleeping function called from invalid context/, 'sleep-in-atomic splat'],
  [/INFO: task .* blocked for more than \d+ seconds/, 'hung task'],
  [/BUG: soft lockup/, 'soft lockup'],
  [/rcu: INFO: rcu_\w+ detected stalls/, 'RCU stall'],
  [/UBSAN: /, 'UBSAN report'],
  [/WARNING: CPU: \d+ PID: \d+ at /, 'kernel warning'],
  [/Kernel panic - not syncing/, 'kernel panic'],
];

const KERNEL_LINE = /^\[\s*\d+\.\d+\] /;
/** Register dumps and machine code: not what a reader of the first lines needs (the call trace is). */
const NOISE = /^(Code: |PKRU: |(?!RIP)[A-Z][A-Z0-9]{1,3}: +[0-9a-f]{4,})/;
/** How many lines of a report are kept: enough to name the function and the call chain's top. */
const REPORT_LINES = 14;

export interface KernelProblem {
  readonly kind: string;
  /** Whether it came while the guest booted (before IOU-VM-UP) or while the command ran. */
  readonly phase: 'boot' | 'command';
  /** The report's first lines, timestamps stripped. */
  readonly lines: string[];
}

/** Follows a console line by line: the markers, and the first kernel problem with its first lines. */
export class ConsoleWatch {
  up = false;
  status: number | null = null;
  problem: KernelProblem | null = null;
  private collecting = 0;

  /** Takes one line (without its newline); true when it is the command's own output (after IOU-VM-UP). */
  feed(raw: string): boolean {
    const line = raw.replace(/\r$/, '');
    if (this.collecting > 0 && this.problem !== null && KERNEL_LINE.test(line)) {
      const text = line.replace(KERNEL_LINE, '');
      if (!NOISE.test(text)) {
        this.problem.lines.push(text);
        this.collecting -= 1;
      }
    }
    if (line === 'IOU-VM-UP') {
      this.up = true;
      return false;
    }
    const status = /^IOU-VM-STATUS (\d+)$/.exec(line);
    if (status !== null) {
      this.status = Number(status[1]);
      return false;
    }
    // After the status marker init exits: what the kernel says then is the expected end.
    if (this.problem === null && this.status === null && KERNEL_LINE.test(line)) {
      const found = PROBLEMS.find(([re]) => re.test(line));
      if (found !== undefined) {
        this.problem = {
          kind: found[1],
          phase: this.up ? 'command' : 'boot',
          lines: [line.replace(KERNEL_LINE, '')],
        };
        this.collecting = REPORT_LINES - 1;
      }
    }
    return this.up && this.status === null && !KERNEL_LINE.test(line);
  }
}
