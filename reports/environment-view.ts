// What a run was measured on, for the reports: a compact block for the head
// of report.txt (at most 80 columns; paths, numbers and parameters are never
// cut) and grouped rows for the HTML's collapsed environment section. Both
// read results.environment through environmentOf(), so results written
// before a field existed render with that field left out. Reads results only.

import { formatCpuList, kernelParams } from '../bench/proc.js';
import type { Environment, Results } from '../bench/results.js';
import { runStealPercent, usableCpus, virtualizationOf } from './caveats.js';

/** results.environment, or an empty one for null or junk. */
export function environmentOf(r: Results): Environment {
  const e = r.environment;
  return e !== null && typeof e === 'object' && !Array.isArray(e) ? (e as Environment) : {};
}

/** The commit and dirty flag of a run: from `git`, else from the older '<sha>+dirty' string. */
export function runCommit(r: Results): { commit: string; dirty: boolean } | null {
  const e = environmentOf(r);
  if (e.git !== undefined && e.git !== null) return e.git;
  const old = e.gitCommit;
  if (typeof old !== 'string') return null;
  return old.endsWith('+dirty')
    ? { commit: old.slice(0, -'+dirty'.length), dirty: true }
    : { commit: old, dirty: false };
}

function cpuLine(e: Environment, virt: string | null): string {
  const id = e.cpuId;
  const name = id?.modelName ?? e.cpu?.model ?? '?';
  const parts: string[] = [];
  if (id !== undefined && id !== null) {
    const fms = [
      id.vendor,
      id.family === null ? null : `family ${id.family}`,
      id.model === null ? null : `model ${id.model}`,
      id.stepping === null ? null : `stepping ${id.stepping}`,
      id.microcode === null ? null : `microcode ${id.microcode}`,
    ].filter((x) => x !== null);
    if (fms.length > 0) parts.push(`(${fms.join(' ')})`);
  }
  // Online CPUs are the machine's; what the run could use is the affinity mask (and any quota below).
  const head = `${name}${parts.length > 0 ? ` ${parts.join(' ')}` : ''} ${e.cpu?.count ?? '?'} online`;
  const tail = [head];
  if (e.affinity !== undefined && e.affinity !== null) {
    const n = e.affinity.length;
    tail.push(`${n} usable (affinity ${formatCpuList(e.affinity)})`);
  }
  if (e.cgroupCpus !== undefined && e.cgroupCpus !== null) {
    tail.push(`cgroup cpu.max ${e.cgroupCpus.toFixed(1)} CPU`);
  }
  tail.push(`hypervisor ${e.hypervisor ?? 'none'}`);
  if (virt !== null) tail.push(`virtualization ${virt}`);
  return tail.join(', ');
}

/**
 * Where the pinned lanes' workers ran (options.placement, bench/topology.ts):
 * 'worker i on CPU: 0 2 1 3 (one per physical core first)'; null for results
 * written before placement was recorded.
 */
export function placementLine(r: Results): string | null {
  const o = r.options as { placement?: { mode?: unknown; cpus?: unknown } } | null;
  const p = o !== null && typeof o === 'object' ? o.placement : undefined;
  if (p === undefined || p === null || typeof p !== 'object' || !Array.isArray(p.cpus)) return null;
  const cpus = (p.cpus as unknown[]).filter(Number.isInteger) as number[];
  const over = (r.options as { oversubscribe?: unknown }).oversubscribe === true;
  if (p.mode === 'off' || cpus.length === 0)
    return `workers unpinned${over ? ' (--oversubscribe: more threads than usable CPUs)' : ' (--no-pin)'}`;
  const how = p.mode === 'cpus' ? '--cpus' : 'one per physical core first, from sysfs';
  return `worker i on CPU[i % ${cpus.length}]: ${cpus.join(' ')} (${how})`;
}

function configLine(e: Environment): string | null {
  const c = e.kernelConfig;
  if (c === undefined) return null;
  if (c === null) return 'not readable (no /proc/config.gz or /boot/config-*)';
  const preempt =
    c.preempt === null ? 'preempt ?' : `PREEMPT_${c.preempt.toUpperCase()}`.replace('_FULL', '');
  // With PREEMPT_DYNAMIC, preempt= on the command line picks the model at boot (kernel/sched/core.c).
  const boot = c.preemptDynamic ? e.cmdline?.match(/(?:^|\s)preempt=(\S+)/)?.[1] : undefined;
  return [
    `${preempt}${c.preemptDynamic ? (boot === undefined ? ' (dynamic)' : ` (dynamic; preempt=${boot} at boot)`) : ''}`,
    `HZ=${c.hz ?? '?'}${c.noHzFull ? ' NO_HZ_FULL' : ''}`,
    c.sanitizers.length === 0 ? 'no sanitizers' : c.sanitizers.join(' '),
    c.lockdep ? 'LOCKDEP' : 'no lockdep',
    c.debug.length === 0 ? 'no debug options' : `debug ${c.debug.join(' ')}`,
    `from ${c.source}`,
  ].join(', ');
}

/** Vulnerability files that are not 'Not affected', with their full text, sorted by name. */
export function activeMitigations(e: Environment): [string, string][] {
  return Object.entries(e.mitigations ?? {})
    .filter(([, v]) => !v.startsWith('Not affected'))
    .sort(([a], [b]) => a.localeCompare(b));
}

function jitLine(e: Environment): string | null {
  if (e.bpfJit === undefined) return null;
  const always = e.kernelConfig?.bpfJitAlwaysOn === true ? ' (CONFIG_BPF_JIT_ALWAYS_ON)' : '';
  return `${e.bpfJit ?? 'not readable'}${always}`;
}

function loadLine(r: Results, e: Environment): string | null {
  if (e.load === undefined) return null;
  const one = (s: typeof e.load.before | null) => s?.loadavg?.one.toFixed(2) ?? '?';
  const steal = runStealPercent(r);
  const on =
    e.affinity === undefined || e.affinity === null
      ? 'all CPUs'
      : `CPU${e.affinity.length === 1 ? '' : 's'} ${formatCpuList(e.affinity)}`;
  return [
    `1-min average ${one(e.load.before)} before, ${one(e.load.after)} after`,
    steal === null ? 'steal not measured' : `steal ${steal.toFixed(1)} % on ${on}`,
  ].join('; ');
}

/**
 * "label:   value" wrapped at spaces to `width`, continuation lines indented
 * by `hang` (no label: the label's indent alone). A word that does not fit
 * after the indent starts at column 0 rather than being cut.
 */
function labelled(label: string | null, value: string, width: number, hang = 9): string[] {
  const indent = ' '.repeat(hang);
  const lines: string[] = [];
  let line = label === null ? ' '.repeat(9) : `${label}:`.padEnd(9);
  let empty = true;
  // Only a word longer than a whole line (a 200-character release string) is cut.
  const words = value
    .split(/\s+/)
    .filter((w) => w !== '')
    .flatMap((w) => (w.length <= width ? [w] : (w.match(new RegExp(`.{1,${width}}`, 'g')) ?? [])));
  for (const word of words) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent;
      empty = true;
    }
    // A word too long for the indent starts at column 0 instead.
    if (empty && line === indent && indent.length + word.length > width) line = '';
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line.trimEnd());
  return lines;
}

/** '2026-12-02 18:42:13-18:44:21 UTC' (one day), else both instants to the second. */
function runSpan(started: string, finished: string): string {
  const [a, b] = [started, finished].map((t) => t.replace(/\.\d+Z$/, 'Z')) as [string, string];
  const [dayA, timeA] = a.replace('Z', '').split('T');
  const [dayB, timeB] = b.replace('Z', '').split('T');
  if (dayA === undefined || timeA === undefined || timeB === undefined)
    return `${started} to ${finished}`;
  return dayA === dayB ? `${dayA} ${timeA}-${timeB} UTC` : `${a} to ${b}`;
}

/**
 * Boot parameters that change what a timing means: mitigations, CPU
 * isolation and tick, idle and frequency drivers, preemption and SMT,
 * memory debugging. Matched by name or prefix (`spectre_v2=`, `intel_idle.`).
 */
const TIMING_PARAMS =
  /^(mitigations|spectre|spec_|retbleed|srso|nospec|no_stf|pti|nopti|mds|tsx|l1tf|mmio_stale|gather_data|reg_file|isolcpus|nohz|rcu_nocbs|rcu_nocb|irqaffinity|idle|processor\.max_cstate|intel_idle\.|intel_pstate|amd_pstate|cpufreq|cpuidle|haltpoll|preempt|threadirqs|nosmt|maxcpus|nr_cpus|transparent_hugepage|numa|init_on_alloc|init_on_free|slub_debug|page_poison|kasan|lockdown|sched_)/;

/** The kernel command line's words that bear on timing, and how many others it has. */
export function timingParams(kernel: string): { shown: string[]; others: number } {
  const words = kernel.split(/\s+/).filter((w) => w !== '');
  const shown = words.filter((w) => TIMING_PARAMS.test(w));
  return { shown, others: words.length - shown.length };
}

/**
 * The environment block at the head of report.txt (the command, commit and
 * dirty flag are in its reproduce block): times and versions, kernel and its
 * configuration, the command line's timing parameters, CPU with
 * its identity and the CPUs this process could use, active mitigations in
 * full, BPF JIT, load and steal. Lines of at most `width` columns.
 */
export function environmentLines(r: Results, width = 80): string[] {
  const e = environmentOf(r);
  // The command, the commit and the tree's state are in the reproduce block beside this one.
  const out: [string | null, string, number?][] = [
    [
      'run',
      `${runSpan(r.startedAt, r.finishedAt)}, ${r.complete ? 'complete' : 'INCOMPLETE'}; suite ${r.suiteVersion}, node ${e.node ?? '?'}`,
    ],
    [
      'kernel',
      `${e.kernel?.release ?? '?'} ${e.kernel?.machine ?? ''} ${e.kernel?.version ?? ''}`.trim(),
    ],
  ];
  const config = configLine(e);
  if (config !== null) out.push(['config', config]);
  if (e.cmdline !== undefined) {
    const params = e.cmdline === null ? null : kernelParams(e.cmdline);
    // Only what bears on timing: a cloud's command line is 8 lines; all of it is in the appendix.
    const timing = params === null ? null : timingParams(params.kernel);
    out.push([
      'cmdline',
      timing === null
        ? 'not readable'
        : `${timing.shown.join(' ') || '(nothing that bears on timing)'}${timing.others > 0 || params?.init ? ` (+${timing.others} other${timing.others === 1 ? '' : 's'}${params?.init ? ' and init arguments' : ''}: appendix)` : ''}`,
    ]);
  }
  out.push(['cpu', cpuLine(e, virtualizationOf(r))]);
  const placed = placementLine(r);
  if (placed !== null) out.push(['pinning', placed]);
  // One vulnerability file a line, in full: "0 vulnerable" hid retpolines and SRSO.
  const vulns: [string | null, string, number][] = [];
  if (e.mitigations !== undefined) {
    const active = activeMitigations(e);
    const others = Object.keys(e.mitigations).length - active.length;
    active.forEach(([k, v], i) => {
      vulns.push([i === 0 ? 'vulns' : null, `${k}: ${v}`, 11]);
    });
    if (others > 0 || active.length === 0) {
      vulns.push([active.length === 0 ? 'vulns' : null, `${others} others: Not affected`, 11]);
    }
  }
  const tail: [string, string, number?][] = [];
  const jit = jitLine(e);
  if (jit !== null) tail.push(['bpf jit', jit]);
  const load = loadLine(r, e);
  if (load !== null) tail.push(['load', load]);
  return [...out, ...vulns, ...tail].flatMap(([label, value, hang]) =>
    labelled(label, value, width, hang),
  );
}

export interface EnvironmentGroup {
  readonly title: string;
  /** [label, value]: plain text, for the renderer to escape. */
  readonly rows: readonly (readonly [string, string])[];
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/**
 * The environment as titled groups of rows for the HTML (Run, Kernel, CPU,
 * Load): every field in full (the whole command line, every vulnerability
 * file, the io_uring probe as JSON). Rows whose field the results lack are
 * left out.
 */
export function environmentGroups(r: Results): EnvironmentGroup[] {
  const e = environmentOf(r);
  const git = runCommit(r);
  const run: [string, string][] = [
    ['command', r.command.join(' ')],
    ['started', r.startedAt],
    ['finished', r.finishedAt],
    ['complete', r.complete ? 'yes' : `no: ${r.incompleteReason ?? '?'}`],
    ['suite version', r.suiteVersion],
    ['node', e.node ?? '?'],
    ['commit', git?.commit ?? 'unknown'],
    ['tree', git === null ? 'unknown' : git.dirty ? 'dirty (tracked files differ)' : 'clean'],
  ];
  const kernel: [string, string][] = [
    ['release', e.kernel?.release ?? '?'],
    ['version', e.kernel?.version ?? '?'],
    ['machine', `${e.kernel?.machine ?? '?'} (${e.kernel?.arch ?? '?'})`],
  ];
  const c = e.kernelConfig;
  if (c !== undefined) {
    if (c === null) kernel.push(['config', 'not readable']);
    else {
      kernel.push(
        ['config read from', c.source],
        ['preemption', `${c.preempt ?? '?'}${c.preemptDynamic ? ' (PREEMPT_DYNAMIC)' : ''}`],
        ['HZ', `${c.hz ?? '?'}${c.noHzFull ? ', NO_HZ_FULL' : ''}`],
        ['sanitizers', c.sanitizers.join(', ') || 'none'],
        ['lockdep', yesNo(c.lockdep)],
        ['debug options', c.debug.join(', ') || 'none'],
        ['mitigations built', c.mitigations.join(', ') || 'none'],
      );
    }
  }
  if (e.cmdline !== undefined) {
    const p = e.cmdline === null ? null : kernelParams(e.cmdline);
    kernel.push(['command line', p?.kernel ?? 'not readable']);
    if (p?.init) kernel.push(['init arguments', p.init]);
  }
  if (e.bpfJit !== undefined) kernel.push(['bpf_jit_enable', jitLine(e) ?? '?']);
  if (e.ioUringDisabledSysctl !== undefined) {
    kernel.push(['io_uring_disabled', e.ioUringDisabledSysctl ?? 'not readable']);
  }
  if (e.ioUring !== undefined) kernel.push(['io_uring probe', JSON.stringify(e.ioUring)]);
  for (const [name, text] of Object.entries(e.mitigations ?? {}).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    kernel.push([`vulnerabilities/${name}`, text]);
  }
  const id = e.cpuId;
  const cpu: [string, string][] = [['model', id?.modelName ?? e.cpu?.model ?? '?']];
  if (id !== undefined && id !== null) {
    cpu.push(
      ['vendor', id.vendor ?? '?'],
      [
        'family / model / stepping',
        `${id.family ?? '?'} / ${id.model ?? '?'} / ${id.stepping ?? '?'}`,
      ],
      ['microcode', id.microcode ?? '?'],
    );
  }
  cpu.push(['CPUs online', String(e.cpu?.count ?? '?')]);
  if (e.affinity !== undefined) {
    cpu.push([
      'affinity (CPUs this process may use)',
      e.affinity === null ? 'not readable' : formatCpuList(e.affinity),
    ]);
  }
  if (e.cgroupCpus !== undefined) {
    cpu.push(['cgroup cpu.max', e.cgroupCpus === null ? 'no limit' : `${e.cgroupCpus} CPUs`]);
  }
  const usable = usableCpus(r);
  if (usable !== null) cpu.push(['CPUs usable by the run', `${usable.count} (${usable.limit})`]);
  const placed = placementLine(r);
  if (placed !== null) cpu.push(['worker placement', placed]);
  cpu.push(['hypervisor', e.hypervisor ?? 'none']);
  const virt = virtualizationOf(r);
  if (virt !== null) cpu.push(['virtualization', virt]);
  if (e.memoryBytes !== undefined) {
    cpu.push(['memory', `${(e.memoryBytes / 2 ** 30).toFixed(1)} GiB`]);
  }
  const groups: EnvironmentGroup[] = [
    { title: 'Run', rows: run },
    { title: 'Kernel', rows: kernel },
    { title: 'CPU', rows: cpu },
  ];
  if (e.load !== undefined) {
    const sample = (s: typeof e.load.before | null) =>
      s?.loadavg == null
        ? 'not read'
        : `${s.loadavg.one.toFixed(2)} ${s.loadavg.five.toFixed(2)} ${s.loadavg.fifteen.toFixed(2)}, ${s.loadavg.running}/${s.loadavg.tasks} tasks running (${s.at})`;
    const steal = runStealPercent(r);
    groups.push({
      title: 'Load',
      rows: [
        ['load average before', sample(e.load.before)],
        ['load average after', sample(e.load.after)],
        ['steal over the run', steal === null ? 'not measured' : `${steal.toFixed(2)} %`],
      ],
    });
  }
  return groups;
}
